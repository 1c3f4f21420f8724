import { describe, expect, test } from "bun:test";
import * as K from "../../ffi/consts.ts";
import { buildRunConfig } from "./docker-config.ts";
import type { HostFacts } from "./host.ts";
import { planLaunch, Ready } from "./launch.ts";

const host: HostFacts = { arch: "x64", lastCap: 40, ownCaps: Array.from({ length: 41 }, (_, i) => i), cgroups: "hybrid" };
const config = buildRunConfig({
  rootfs: "/tmp", args: ["sh"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] },
  hostname: "h", terminal: false, readOnly: false, network: "loopback", volumes: [], tmpfs: [], labels: {},
});
const req = { config, rootfs: "/tmp", mode: "run" as const, preserveFds: 0, firstPreservedFd: 6, runtimeHooks: false, host };

describe("planLaunch() with a cgroup", () => {
  test("v1/hybrid: the child joins each v1 cgroup first (no sync point), then unshares the cgroup namespace before any mount", () => {
    const l = planLaunch({ ...req, cgroup: { fd: 5, v1Tasks: [{ fd: 6, name: "memory" }, { fd: 7, name: "cpu,cpuacct" }] } });
    expect(l.readies).toEqual([Ready.CREATED]);
    const i = (s: string) => l.steps.findIndex((x) => x.includes(s));
    expect(i("join the container's memory cgroup")).toBeGreaterThan(i("create the container process"));
    expect(i("join the container's memory cgroup")).toBeLessThan(i("join the container's cpu,cpuacct cgroup"));
    expect(i("join the container's cpu,cpuacct cgroup")).toBeLessThan(i("create the cgroup namespace"));
    expect(i("create the cgroup namespace")).toBeLessThan(i("mount proc"));
    // the recorded flags still name the cgroup namespace (hooks, kill --all)
    expect(l.cloneFlags & K.CLONE_NEWCGROUP).toBe(K.CLONE_NEWCGROUP);
  });
  test("pure v2: no sync point, the clone goes into the cgroup", () => {
    const l = planLaunch({ ...req, cgroup: { fd: 5, v1Tasks: [] } });
    expect(l.steps.some((s) => s.startsWith("join the container's"))).toBe(false);
    expect(l.readies).toEqual([Ready.CREATED]);
    expect(l.steps.some((s) => s.includes("create the cgroup namespace"))).toBe(true);
  });
  test("without a cgroup the plan is unchanged (cgroupns at clone)", () => {
    const l = planLaunch(req);
    expect(l.steps.some((s) => s.includes("create the cgroup namespace"))).toBe(false);
  });
});
