import { describe, expect, test } from "bun:test";
import type { OciConfig } from "../oci/runtime/config.ts";
import { buildRunConfig } from "../plan/docker-config.ts";
import { containerResources, DEFAULT_ALLOWED_DEVICES } from "./cgroup-setup.ts";
import { mergeResources } from "./container-ref.ts";
import { runCgroup } from "./run-cgroup.ts";

const spec = (extra: Partial<Parameters<typeof buildRunConfig>[0]> = {}) =>
  buildRunConfig({
    rootfs: "/tmp", args: ["sh"], env: [], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] }, hostname: "h",
    terminal: false, readOnly: false, network: "loopback", volumes: [], tmpfs: [], labels: {}, ...extra,
  });

describe("containerResources()", () => {
  test("no linux.resources: nothing to apply", () => {
    expect(containerResources({ ociVersion: "1.2.0" } as OciConfig)).toBeUndefined();
  });
  test("limits without device rules are kept as they are (no device filter)", () => {
    const c = { ociVersion: "1.2.0", linux: { resources: { memory: { limit: 1 << 20 } } } } as OciConfig;
    expect(containerResources(c)).toEqual({ memory: { limit: 1 << 20 } });
  });
  test("device rules: the config's, then the container's own devices, then the default allow-list", () => {
    const c = {
      ociVersion: "1.2.0",
      linux: {
        resources: { devices: [{ allow: false, access: "rwm" }] },
        devices: [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }],
      },
    } as OciConfig;
    const d = containerResources(c)!.devices!;
    expect(d[0]).toEqual({ allow: false, access: "rwm" });
    expect(d[1]).toEqual({ allow: true, type: "c", major: 10, minor: 229, access: "rwm" });
    expect(d.slice(2)).toEqual(DEFAULT_ALLOWED_DEVICES);
    // the config itself is not changed
    expect(c.linux!.resources!.devices).toHaveLength(1);
  });
  test("pelagos run: deny-all then the defaults, and the docker flags' limits", () => {
    const c = spec({ resources: { memory: { limit: 32 << 20 }, pids: { limit: 20 } } });
    const r = containerResources(c)!;
    expect(r.memory).toEqual({ limit: 32 << 20 });
    expect(r.pids).toEqual({ limit: 20 });
    expect(r.devices![0]).toEqual({ allow: false, access: "rwm" });
    expect(r.devices).toContainEqual({ allow: true, type: "c", major: 1, minor: 3, access: "rwm" });
    expect(r.devices).toContainEqual({ allow: true, type: "c", major: 136, minor: -1, access: "rwm" });
    expect(r.devices).not.toContainEqual(expect.objectContaining({ type: "b", access: "rwm" }));
  });
});

describe("runCgroup()", () => {
  test("--cgroup-parent becomes an absolute cgroupsPath ending in the name", () => {
    expect(runCgroup(undefined, "a/b", "web")).toEqual({ cgroupsPath: "/a/b/web" });
    expect(runCgroup(undefined, "/a", "web")).toEqual({ cgroupsPath: "/a/web" });
    expect(runCgroup(undefined, undefined, "web")).toEqual({});
  });
  test("bad values are usage errors naming the flag", () => {
    expect(() => runCgroup(undefined, "a/../b", "web")).toThrow('".." is not allowed');
    expect(() => runCgroup({ cpus: "x" }, undefined, "web")).toThrow('Invalid value "x" for --cpus');
    expect(() => runCgroup({ memory: "1k" }, undefined, "web")).toThrow("the minimum is 6MB");
  });
  test("docker flags map to OCI resources", () => {
    const r = runCgroup({ memory: "64m", cpus: "0.5", pidsLimit: 20 }, undefined, "w").resources!;
    expect(r.memory?.limit).toBe(64 << 20);
    expect(r.cpu).toEqual({ period: 100000, quota: 50000 });
    expect(r.pids).toEqual({ limit: 20 });
  });
});

describe("mergeResources()", () => {
  test("sections merge field by field, lists replace", () => {
    const base = { memory: { limit: 1, swap: 2 }, pids: { limit: 5 }, devices: [{ allow: false }] };
    expect(mergeResources(base, { memory: { limit: 3 }, devices: [] })).toEqual({ memory: { limit: 3, swap: 2 }, pids: { limit: 5 }, devices: [] });
    expect(mergeResources(undefined, { pids: { limit: 1 } })).toEqual({ pids: { limit: 1 } });
  });
});
