/**
 * The cgroup manager against the real kernel of this host (root only): a
 * memory and pids limit under pelagos's own parent, a sleeping process we
 * start placed in it, limits read back from the kernel's files, killed via the
 * manager, destroyed, nothing left. On a hybrid host this exercises the v1
 * hierarchies; on a pure v2 host, cgroup2.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmdirSync } from "node:fs";
import { hostCgroupFs } from "../../src/cgroups/cgroupfs.ts";
import { CgroupManager, hostLayout } from "../../src/cgroups/manager.ts";

const isRoot = process.getuid?.() === 0;
const layout = isRoot ? hostLayout() : undefined;
const v1 = (c: string) => layout?.v1.find((h) => h.controllers.includes(c))?.mount;
const v2 = layout?.unified;
const hasMemPids = layout !== undefined && ((v1("memory") && v1("pids")) || (layout.mode === "v2" && v2?.controllers.includes("memory") && v2.controllers.includes("pids")));
const reason = !isRoot ? "not root" : !hasMemPids ? "no memory and pids controllers on this host" : "";
if (reason) console.log(`skip cgroup host test: ${reason}`);

// Parents that did not exist before the test are removed at the end (only if empty: rmdir).
const parents = layout ? [...layout.v1.map((h) => `${h.mount}/pelagos`), ...(v2 ? [`${v2.mount}/pelagos`] : [])] : [];
const preexisting = new Set(parents.filter((p) => existsSync(p)));
let manager: CgroupManager | undefined;
let child: ReturnType<typeof Bun.spawn> | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill(9);
  if (manager) await manager.destroy().catch((e) => console.error(`cleanup: ${e.message}`));
  for (const p of parents) {
    if (preexisting.has(p)) continue;
    try {
      rmdirSync(p);
    } catch {
      // in use by a concurrent run: leave it
    }
  }
});

test.skipIf(reason !== "")("memory + pids limits on the host kernel: create, join, read back, kill, destroy", async () => {
  const id = `hosttest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const devices = [{ allow: false, access: "rwm" }, { allow: true, type: "c" as const, major: 1, minor: 3, access: "rwm" }, { allow: true, type: "c" as const, major: 1, minor: 5, access: "rw" }];
  manager = await CgroupManager.create({
    id,
    resources: { memory: { limit: 64 << 20 }, pids: { limit: 16 }, cpu: { quota: 20000, period: 100000, cpus: "0" }, ...(v1("devices") ? { devices } : {}) },
  });
  const dirs = manager.dirs;
  if (layout!.mode === "v2") {
    expect(readFileSync(`${dirs.unified}/memory.max`, "utf8").trim()).toBe(String(64 << 20));
    expect(readFileSync(`${dirs.unified}/pids.max`, "utf8").trim()).toBe("16");
  } else {
    expect(readFileSync(`${dirs.v1.memory}/memory.limit_in_bytes`, "utf8").trim()).toBe(String(64 << 20));
    expect(readFileSync(`${dirs.v1.pids}/pids.max`, "utf8").trim()).toBe("16");
    expect(readFileSync(`${dirs.v1.cpu}/cpu.cfs_quota_us`, "utf8").trim()).toBe("20000");
    expect(dirs.v1.memory).toBe(`${v1("memory")}/pelagos/${id}`);
    if (dirs.v1.cpuset) expect(readFileSync(`${dirs.v1.cpuset}/cpuset.cpus`, "utf8").trim()).toBe("0");
    if (dirs.v1.devices) expect(readFileSync(`${dirs.v1.devices}/devices.list`, "utf8").trim().split("\n")).toEqual(["c 1:3 rwm", "c 1:5 rw"]);
  }
  child = Bun.spawn(["sleep", "600"], { stdout: "ignore", stderr: "ignore" });
  manager.join(child.pid);
  expect(manager.pids()).toEqual([child.pid]);
  const own = readFileSync(`/proc/${child.pid}/cgroup`, "utf8");
  expect(own).toContain(`pelagos/${id}`);
  const stats = manager.stats();
  expect(stats.pids).toEqual({ current: 1, limit: 16 });
  expect(stats.memory?.limit).toBe(64 << 20);
  expect(manager.oomKilled()).toBe(false);
  await manager.freeze();
  await manager.thaw();
  await manager.killAll();
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  expect(manager.pids()).toEqual([]);
  const created = manager.state().created;
  expect(created.length).toBeGreaterThan(0);
  await manager.destroy();
  manager = undefined;
  for (const d of created) expect(existsSync(d)).toBe(false);
  expect(hostCgroupFs.exists(`${dirs.unified ?? dirs.v1.memory}`)).toBe(false);
});
