import { describe, expect, test } from "bun:test";
import { ConfigError } from "../errors.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import { buildRunConfig } from "./docker-config.ts";
import type { HostFacts } from "./host.ts";
import { planLaunch, Ready } from "./launch.ts";
import { planNamespaces } from "./namespaces.ts";
import { execCandidates } from "./process.ts";

const host: HostFacts = { arch: "x64", lastCap: 40, ownCaps: Array.from({ length: 41 }, (_, i) => i), cgroups: "v2" };

function base(): OciConfig {
  return buildRunConfig({
    rootfs: "/tmp", args: ["sh"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: "h", terminal: false, readOnly: false, network: "loopback", volumes: [], tmpfs: [], labels: {},
  });
}
const req = (config: OciConfig) => ({ config, rootfs: "/tmp", mode: "run" as const, preserveFds: 0, firstPreservedFd: 5, runtimeHooks: false, host });

describe("planLaunch()", () => {
  test("a docker-style config plans mounts, pivot, credentials and exec in that order", () => {
    const l = planLaunch(req(base()));
    const i = (s: string) => l.steps.findIndex((x) => x.includes(s));
    expect(i("mount proc at /proc")).toBeGreaterThan(-1);
    expect(i("mount proc at /proc")).toBeLessThan(i("pivot_root"));
    expect(i("pivot_root")).toBeLessThan(i("mask /proc/kcore"));
    expect(i("drop capabilities")).toBeLessThan(i("set uid"));
    expect(i("set uid")).toBeLessThan(i("set capabilities"));
    expect(l.steps.at(-1)).toBe('execute "sh"');
    expect(l.readies).toEqual([Ready.CREATED]);
  });
  test("a hostname without a uts namespace is refused (it would rename the host)", () => {
    const c = base();
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "uts");
    expect(() => planLaunch(req(c))).toThrow(ConfigError);
    expect(() => planLaunch(req(c))).toThrow("hostname");
  });
  test("a non-namespaced sysctl is refused", () => {
    const c = base();
    c.linux!.sysctl = { "vm.swappiness": "1" };
    expect(() => planLaunch(req(c))).toThrow("not namespaced");
    c.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
    expect(() => planLaunch(req(c))).not.toThrow();
  });
  test("capabilities the runtime lacks are a clear error", () => {
    const c = base();
    c.process!.capabilities!.bounding = ["CAP_SYS_RESOURCE"];
    expect(() => planLaunch({ ...req(c), host: { ...host, ownCaps: [0, 1] } })).toThrow("CAP_SYS_RESOURCE");
  });
  test("no command is an error with its JSON path", () => {
    const c = base();
    c.process!.args = [];
    expect(() => planLaunch(req(c))).toThrow("process.args");
  });
  test("a user namespace adds a sync point for the id maps", () => {
    const c = base();
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    expect(planLaunch(req(c)).readies).toEqual([Ready.USERNS, Ready.CREATED]);
  });
});

describe("planNamespaces()", () => {
  test("joins come in a fixed order, user first and mount last", () => {
    const p = planNamespaces([{ type: "mount", path: "/m" }, { type: "network", path: "/n" }, { type: "user", path: "/u" }, { type: "pid" }]);
    expect(p.join.map((j) => j.type)).toEqual(["user", "network", "mount"]);
    expect(p.clone).toBe(0x20000000);
  });
  test("unknown and duplicate types are rejected", () => {
    expect(() => planNamespaces([{ type: "bogus" } as never])).toThrow("linux.namespaces[0].type");
    expect(() => planNamespaces([{ type: "pid" }, { type: "pid" }])).toThrow("listed twice");
  });
});

describe("execCandidates()", () => {
  test("searches PATH like docker, takes paths as given", () => {
    expect(execCandidates("sh", ["PATH=/a:/b/"])).toEqual(["/a/sh", "/b/sh"]);
    expect(execCandidates("./x", [])).toEqual(["./x"]);
    expect(execCandidates("ls", [])[0]).toBe("/usr/local/sbin/ls");
  });
});
