/**
 * The cgroup manager on a pure cgroup-v2 kernel, as root, inside the test VM
 * (test/vm/cgroup-v2.test.ts boots it). Skipped anywhere else.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { queryDevicePrograms } from "../../ffi/bpf.ts";
import { parseKeyValues } from "../../src/cgroups/stats.ts";
import { CgroupManager, hostLayout } from "../../src/cgroups/manager.ts";
import type { CreateOptions } from "../../src/cgroups/manager.ts";

const inVm = process.env.PELAGOS_IN_VM === "1" && process.getuid?.() === 0;
if (!inVm) console.log("skip guest cgroup tests: not inside the pelagos test VM (run test/vm/cgroup-v2.test.ts)");

const managers: CgroupManager[] = [];
const procs: ReturnType<typeof Bun.spawn>[] = [];
let n = 0;

afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill(9);
  for (const m of managers.splice(0)) await m.destroy().catch(() => undefined);
});

async function make(opts: Omit<CreateOptions, "id">): Promise<CgroupManager> {
  const m = await CgroupManager.create({ id: `guest-${process.pid}-${n++}`, ...opts });
  managers.push(m);
  return m;
}

/** A shell script started outside, moved into the cgroup, then released by a line on stdin. */
function startIn(m: CgroupManager, script: string) {
  const p = Bun.spawn(["sh", "-c", `read go; ${script}`], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  procs.push(p);
  m.join(p.pid);
  p.stdin.write("go\n");
  p.stdin.flush();
  return p;
}

/** Polls until `ok()` (TCG on a loaded 2-core host is slow and uneven: wait for states, not fixed times). */
async function until(ok: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await Bun.sleep(20);
}

const read = (m: CgroupManager, f: string) => readFileSync(`${m.dirs.unified}/${f}`, "utf8").trim();

describe.skipIf(!inVm)("cgroup manager on pure cgroup v2", () => {
  test("layout is pure v2 with the domain controllers", () => {
    const l = hostLayout();
    expect(l.mode).toBe("v2");
    expect(l.unified?.controllers).toEqual(expect.arrayContaining(["cpu", "memory", "pids", "io", "cpuset"]));
  });

  test("memory, pids and cpu limits are written and read back; update changes them", async () => {
    const m = await make({ resources: { memory: { limit: 64 << 20, swap: 96 << 20, reservation: 16 << 20 }, pids: { limit: 20 }, cpu: { quota: 50000, period: 100000, shares: 512 } } });
    expect(m.dirfd).toBeNumber();
    expect(read(m, "memory.max")).toBe(String(64 << 20));
    expect(read(m, "memory.swap.max")).toBe(String(32 << 20));
    expect(read(m, "memory.low")).toBe(String(16 << 20));
    expect(read(m, "memory.oom.group")).toBe("1");
    expect(read(m, "pids.max")).toBe("20");
    expect(read(m, "cpu.max")).toBe("50000 100000");
    expect(read(m, "cpu.weight")).toBe("20");
    await m.update({ pids: { limit: 7 } });
    expect(read(m, "pids.max")).toBe("7");
    expect(readFileSync("/sys/fs/cgroup/pelagos/cgroup.subtree_control", "utf8")).toContain("memory");
  });

  test("a memory hog is OOM-killed and oomKilled() reports it", async () => {
    const m = await make({ resources: { memory: { limit: 32 << 20, swap: 32 << 20 } } });
    expect(m.oomKilled()).toBe(false);
    const p = startIn(m, "exec dd if=/dev/zero of=/dev/null bs=256M count=1");
    await p.exited;
    expect(p.signalCode).toBe("SIGKILL");
    expect(m.oomKilled()).toBe(true);
    expect(parseKeyValues(read(m, "memory.events")).oom_kill).toBeGreaterThan(0);
  }, 30_000);

  test("the pids limit contains a fork loop", async () => {
    const m = await make({ resources: { pids: { limit: 8 } } });
    const p = startIn(m, "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo forked; sleep 30");
    await until(() => (parseKeyValues(read(m, "pids.events")).max ?? 0) > 0);
    expect(Number(read(m, "pids.current"))).toBeLessThanOrEqual(8);
    expect(parseKeyValues(read(m, "pids.events")).max).toBeGreaterThan(0);
    expect(m.stats().pids?.limit).toBe(8);
    await m.killAll();
    await p.exited;
    expect(m.pids()).toEqual([]);
  }, 30_000);

  test("--cpus 0.5 throttles a busy loop (cpu.stat)", async () => {
    const m = await make({ resources: { cpu: { quota: 50000, period: 100000 } } });
    startIn(m, "while :; do :; done");
    await until(() => (m.stats().cpu?.nrThrottled ?? 0) > 0);
    const s = m.stats();
    expect(s.cpu?.nrThrottled).toBeGreaterThan(0);
    expect(s.cpu?.throttledUsec).toBeGreaterThan(0);
    await m.killAll();
  }, 30_000);

  test("freeze and thaw", async () => {
    const m = await make({});
    const p = startIn(m, "while :; do :; done");
    await m.freeze();
    expect(read(m, "cgroup.events")).toContain("frozen 1");
    // cpu.stat is flushed lazily: allow slack, a running busy loop would add ~500 ms.
    const before = m.stats().cpu?.usageUsec ?? 0;
    await Bun.sleep(500);
    expect((m.stats().cpu?.usageUsec ?? 0) - before).toBeLessThan(100_000);
    expect(readFileSync(`/proc/${p.pid}/stat`, "utf8").split(") ")[1]?.[0]).toBe("S");
    await m.thaw();
    expect(read(m, "cgroup.events")).toContain("frozen 0");
    await m.killAll();
    await p.exited;
  }, 30_000);

  test("killAll empties the cgroup; destroy leaves nothing", async () => {
    const m = await make({ resources: { pids: { limit: 50 } } });
    const p = startIn(m, "sleep 60 & sleep 60 & sleep 60 & wait");
    await until(() => m.pids().length >= 4);
    expect(m.pids().length).toBe(4);
    await m.killAll();
    await p.exited;
    expect(m.pids()).toEqual([]);
    const dir = m.dirs.unified!;
    await m.destroy();
    managers.pop();
    expect(existsSync(dir)).toBe(false);
    expect(existsSync("/sys/fs/cgroup/pelagos")).toBe(true);
  }, 30_000);

  test("the device eBPF program denies /dev/null-like node and allows /dev/zero-like node", async () => {
    const dir = `/tmp/devtest-${process.pid}`;
    mkdirSync(dir, { recursive: true });
    try {
      const mk = Bun.spawnSync(["sh", "-c", `mknod ${dir}/null c 1 3 && mknod ${dir}/zero c 1 5`]);
      expect(mk.exitCode).toBe(0);
      const m = await make({ resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 5, access: "rwm" }] } });
      const p = startIn(m, `cat ${dir}/null; echo null=$?; head -c 1 ${dir}/zero > ${dir}/out; echo zero=$?`);
      await p.exited;
      const out = await new Response(p.stdout).text();
      expect(out).toContain("null=1");
      expect(out).toContain("zero=0");
      expect(await new Response(p.stderr).text()).toContain("Operation not permitted");
      // update() replaces the program: exactly one attached, and the new rules apply.
      await m.update({ devices: [{ allow: false }, { allow: true, type: "c", major: 1, minor: 3, access: "rw" }, { allow: true, type: "c", major: 1, minor: 5 }] });
      expect(queryDevicePrograms(m.dirfd!).length).toBe(1);
      const q = startIn(m, `cat ${dir}/null; echo null=$?`);
      await q.exited;
      expect(await new Response(q.stdout).text()).toContain("null=0");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
