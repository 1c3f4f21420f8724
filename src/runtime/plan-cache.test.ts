import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildRunConfig } from "../plan/docker-config.ts";
import type { HostFacts } from "../plan/host.ts";
import { planLaunch, type LaunchRequest } from "../plan/launch.ts";
import { decodeEntry, encodeEntry, evict, planKey } from "./plan-cache.ts";

const host: HostFacts = { arch: "x64", lastCap: 40, ownCaps: Array.from({ length: 41 }, (_, i) => i), cgroups: "hybrid" };
const config = buildRunConfig({
  rootfs: "/tmp", args: ["sh"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] },
  hostname: "h", terminal: false, readOnly: false, network: "loopback", volumes: [], tmpfs: [], labels: {},
});
const req: LaunchRequest = {
  config, rootfs: "/tmp", mode: "run", preserveFds: 0, firstPreservedFd: 6, runtimeHooks: false, host,
  cgroup: { fd: 5, v1Tasks: [{ fd: 6, name: "memory" }] },
};

describe("plan cache", () => {
  test("an entry decodes to the same launch", () => {
    const l = planLaunch(req);
    const back = decodeEntry(encodeEntry(l));
    expect(back).toEqual(l);
    // a copy: writing the runtime pid into it does not touch the stored bytes
    expect(back!.plan.buffer).not.toBe(l.plan.buffer);
  });

  test("damaged or foreign entries are misses, not errors", () => {
    const good = encodeEntry(planLaunch(req));
    expect(decodeEntry(new Uint8Array(0))).toBeUndefined();
    expect(decodeEntry(good.subarray(0, 30))).toBeUndefined();
    const badMeta = good.slice();
    badMeta[5] = 0x7b; // breaks the JSON
    expect(decodeEntry(badMeta)).toBeUndefined();
    const oldVersion = good.slice();
    const n = new DataView(oldVersion.buffer).getUint32(0, true);
    new DataView(oldVersion.buffer).setUint32(4 + n + 4, 1, true); // plan format 1
    expect(decodeEntry(oldVersion)).toBeUndefined();
  });

  test("the key covers the build, the config, the host and the cgroup", () => {
    const k = planKey(req, "build-a")!;
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(planKey({ ...req }, "build-a")).toBe(k);
    expect(planKey(req, "build-b")).not.toBe(k);
    expect(planKey({ ...req, config: { ...config, hostname: "other" } }, "build-a")).not.toBe(k);
    expect(planKey({ ...req, host: { ...host, ownCaps: [0, 1] } }, "build-a")).not.toBe(k);
    expect(planKey({ ...req, cgroup: { fd: 5, v1Tasks: [] } }, "build-a")).not.toBe(k);
    expect(planKey({ ...req, rootfs: "/other" }, "build-a")).not.toBe(k);
    const f1 = { filter: new Uint8Array([1, 2, 3]), flags: 0 }, f2 = { filter: new Uint8Array([1, 2, 4]), flags: 0 };
    expect(planKey({ ...req, seccomp: f1 }, "build-a")).not.toBe(planKey({ ...req, seccomp: f2 }, "build-a"));
  });

  test("the key covers what the planners read from the host: a bind source turned from directory to file, or gone", () => {
    const dir = mkdtempSync(`${tmpdir()}/plan-cache-bind-`);
    try {
      const src = `${dir}/src`;
      mkdirSync(src);
      const withBind = { ...req, config: { ...config, mounts: [...(config.mounts ?? []), { destination: "/data", type: "bind", source: src, options: ["rbind"] }] } };
      const asDir = planKey(withBind, "build-a");
      expect(planKey(withBind, "build-a")).toBe(asDir);
      rmdirSync(src);
      writeFileSync(src, "x");
      const asFile = planKey(withBind, "build-a");
      expect(asFile).not.toBe(asDir);
      rmSync(src);
      expect(planKey(withBind, "build-a")).not.toBe(asFile);
      expect(planKey(withBind, "build-a")).not.toBe(asDir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("eviction keeps the newest entries", () => {
    const dir = mkdtempSync(`${tmpdir()}/plan-cache-`);
    try {
      for (let i = 0; i < 6; i++) {
        writeFileSync(`${dir}/e${i}`, "x");
        utimesSync(`${dir}/e${i}`, 1000 + i, 1000 + i);
      }
      writeFileSync(`${dir}/.e9.tmp`, "x"); // a write in progress is not counted
      evict(dir, 4);
      expect(readdirSync(dir).sort()).toEqual([".e9.tmp", "e2", "e3", "e4", "e5"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
