import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { PelagosError } from "../errors.ts";
import { CgroupManager } from "./manager.ts";
import { killAll, procsFiles } from "./kill.ts";
import { type FakeCgroupfs, fakeCgroupfs } from "./testing/fake-cgroupfs.ts";

let fake: FakeCgroupfs | undefined;
afterEach(() => fake?.cleanup());
const CG = "/sys/fs/cgroup";

test("v1: one dir per hierarchy, every controller file written, cpuset copied from the parent", async () => {
  fake = fakeCgroupfs({ mode: "v1" });
  const m = await CgroupManager.create(
    {
      id: "c1",
      resources: {
        memory: { limit: 100 << 20, swap: 200 << 20, reservation: 50 << 20, swappiness: 0, disableOOMKiller: true },
        cpu: { shares: 512, quota: 50000, period: 100000, realtimePeriod: 1000000, realtimeRuntime: 0, cpus: "1" },
        pids: { limit: 10 },
        blockIO: { weight: 300, leafWeight: 200, weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 4096 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 7 }] },
        devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }, { allow: true, type: "c", major: 136, access: "rw" }],
      },
    },
    { fs: fake.fs, layout: fake.layout },
  );
  const w = fake.writes.map(([p, v]) => `${p}=${v}`);
  expect(w).toEqual([
    `${CG}/cpuset/pelagos/cpuset.cpus=0-1`,
    `${CG}/cpuset/pelagos/cpuset.mems=0`,
    `${CG}/cpuset/pelagos/c1/cpuset.cpus=0-1`,
    `${CG}/cpuset/pelagos/c1/cpuset.mems=0`,
    `${CG}/memory/pelagos/c1/memory.limit_in_bytes=104857600`,
    `${CG}/memory/pelagos/c1/memory.memsw.limit_in_bytes=209715200`,
    `${CG}/memory/pelagos/c1/memory.soft_limit_in_bytes=52428800`,
    `${CG}/memory/pelagos/c1/memory.swappiness=0`,
    `${CG}/memory/pelagos/c1/memory.oom_control=1`,
    `${CG}/cpu/pelagos/c1/cpu.shares=512`,
    `${CG}/cpu/pelagos/c1/cpu.cfs_period_us=100000`,
    `${CG}/cpu/pelagos/c1/cpu.cfs_quota_us=50000`,
    `${CG}/cpu/pelagos/c1/cpu.rt_period_us=1000000`,
    `${CG}/cpuset/pelagos/c1/cpuset.cpus=1`,
    `${CG}/pids/pelagos/c1/pids.max=10`,
    `${CG}/blkio/pelagos/c1/blkio.weight=300`,
    `${CG}/blkio/pelagos/c1/blkio.leaf_weight=200`,
    `${CG}/blkio/pelagos/c1/blkio.weight_device=8:0 100`,
    `${CG}/blkio/pelagos/c1/blkio.leaf_weight_device=8:0 50`,
    `${CG}/blkio/pelagos/c1/blkio.throttle.read_bps_device=8:0 4096`,
    `${CG}/blkio/pelagos/c1/blkio.throttle.write_iops_device=8:0 7`,
    `${CG}/devices/pelagos/c1/devices.deny=a *:* rwm`,
    `${CG}/devices/pelagos/c1/devices.allow=c 1:3 rwm`,
    `${CG}/devices/pelagos/c1/devices.allow=c 136:* rw`,
  ]);
  expect(m.dirfd).toBeUndefined();
  expect(procsFiles(m.dirs).length).toBe(8);
  m.join(77);
  expect(readFileSync(`${fake.root}${CG}/pids/pelagos/c1/cgroup.procs`, "utf8")).toBe("77");
  for (const f of procsFiles(m.dirs)) fake.set(f.slice(fake.root.length), "");
  await m.destroy();
  for (const c of ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"]) {
    expect(existsSync(`${fake.root}${CG}/${c}/pelagos/c1`)).toBe(false);
    expect(existsSync(`${fake.root}${CG}/${c}/pelagos`)).toBe(true);
  }
});

test("v1: memory limit and memsw are retried in the other order when the kernel says EINVAL", async () => {
  fake = fakeCgroupfs({ mode: "v1" });
  const m = await CgroupManager.create({ id: "m", resources: { memory: { limit: 100 << 20, swap: 100 << 20 } } }, { fs: fake.fs, layout: fake.layout });
  const write = fake.fs.write;
  let failed = false;
  fake.fs.write = (p, v) => {
    if (p.endsWith("memory.limit_in_bytes") && !failed) {
      failed = true;
      throw new PelagosError("E_CGROUP", "Cannot write: EINVAL", { details: { errno: "EINVAL" } });
    }
    write(p, v);
  };
  fake.writes.length = 0;
  await m.update({ memory: { limit: 300 << 20, swap: 400 << 20 } });
  expect(fake.writes.map(([p, v]) => `${p.split("/").pop()}=${v}`)).toEqual([
    "memory.memsw.limit_in_bytes=419430400",
    "memory.limit_in_bytes=314572800",
  ]);
  fake.fs.write = write;
  await m.destroy();
});

test("v1: missing files and controllers are errors naming each limit; no dir left", async () => {
  fake = fakeCgroupfs({ mode: "v1", v1: [["cpu"], ["memory"], ["freezer"]], without: ["memory.memsw.limit_in_bytes"] });
  await expect(
    CgroupManager.create(
      { id: "x", resources: { memory: { limit: 10 << 20, swap: 20 << 20 }, pids: { limit: 5 }, unified: { "memory.high": "1" } } },
      { fs: fake.fs, layout: fake.layout },
    ),
  ).rejects.toThrow(/unified "memory.high".*pids limit \("pids.max"\): the "pids" controller is not mounted.*memory\+swap limit \("memory.memsw.limit_in_bytes"\): the kernel does not provide/);
  expect(existsSync(`${fake.root}${CG}/memory/pelagos/x`)).toBe(false);
  expect(existsSync(`${fake.root}${CG}/cpu/pelagos/x`)).toBe(false);
});

test("v1: freeze through freezer.state, stats from cpuacct/memory/pids/blkio, oom_control", async () => {
  fake = fakeCgroupfs({ mode: "v1" });
  const m = await CgroupManager.create({ id: "s" }, { fs: fake.fs, layout: fake.layout });
  await m.freeze();
  expect(readFileSync(`${fake.root}${CG}/freezer/pelagos/s/freezer.state`, "utf8")).toBe("FROZEN");
  await m.thaw();
  fake.set(`${CG}/cpuacct/pelagos/s/cpuacct.usage`, "2500000\n");
  fake.set(`${CG}/cpuacct/pelagos/s/cpuacct.stat`, "user 10\nsystem 5\n");
  fake.set(`${CG}/cpu/pelagos/s/cpu.stat`, "nr_periods 3\nnr_throttled 2\nthrottled_time 5000000\n");
  fake.set(`${CG}/memory/pelagos/s/memory.usage_in_bytes`, "8192\n");
  fake.set(`${CG}/memory/pelagos/s/memory.limit_in_bytes`, "9223372036854771712\n");
  fake.set(`${CG}/memory/pelagos/s/memory.max_usage_in_bytes`, "9000\n");
  fake.set(`${CG}/pids/pelagos/s/pids.current`, "1\n");
  fake.set(`${CG}/pids/pelagos/s/pids.max`, "max\n");
  fake.set(`${CG}/blkio/pelagos/s/blkio.throttle.io_service_bytes_recursive`, "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n");
  expect(m.stats()).toEqual({
    cpu: { usageUsec: 2500, userUsec: 100000, systemUsec: 50000, nrPeriods: 3, nrThrottled: 2, throttledUsec: 5000 },
    memory: { usage: 8192, limit: undefined, peak: 9000 },
    pids: { current: 1, limit: undefined },
    io: { readBytes: 10, writeBytes: 20 },
  });
  fake.set(`${CG}/memory/pelagos/s/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  expect(m.oomKilled()).toBe(false);
  fake.set(`${CG}/memory/pelagos/s/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  expect(m.oomKilled()).toBe(true);
  await m.destroy();
});

test("v1 killAll without cgroup.kill: freeze, SIGKILL each listed pid, thaw, until empty", async () => {
  fake = fakeCgroupfs({ mode: "v1", v1: [["pids"], ["freezer"]] });
  const m = await CgroupManager.create({ id: "k" }, { fs: fake.fs, layout: fake.layout });
  fake.set(`${CG}/pids/pelagos/k/cgroup.procs`, "101\n102\n");
  fake.set(`${CG}/freezer/pelagos/k/cgroup.procs`, "101\n102\n");
  const signalled: string[] = [];
  await killAll(m.dirs, {
    fs: fake.fs,
    signal: (pid, sig) => {
      signalled.push(`${pid}:${sig}:${readFileSync(`${fake!.root}${CG}/freezer/pelagos/k/freezer.state`, "utf8")}`);
      fake!.set(`${CG}/pids/pelagos/k/cgroup.procs`, "");
      fake!.set(`${CG}/freezer/pelagos/k/cgroup.procs`, "");
    },
  });
  expect(signalled).toEqual(["101:9:FROZEN", "102:9:FROZEN"]);
  expect(readFileSync(`${fake.root}${CG}/freezer/pelagos/k/freezer.state`, "utf8")).toBe("THAWED");
  await m.destroy();
});

test("v1 killAll while the container's own pelagos removes part of the cgroup: no freezing from then on, no error", async () => {
  fake = fakeCgroupfs({ mode: "v1", v1: [["pids"], ["freezer"]] });
  const m = await CgroupManager.create({ id: "k" }, { fs: fake.fs, layout: fake.layout });
  const freezerDir = m.dirs.v1.freezer!;
  expect(freezerDir.startsWith(fake.root)).toBe(true);
  fake.set(`${CG}/pids/pelagos/k/cgroup.procs`, "101\n");
  // the freezer hierarchy's dir is gone (emptied and removed by the other destroyer) before the kill freezes
  rmSync(freezerDir, { recursive: true });
  const signalled: number[] = [];
  await killAll(m.dirs, {
    fs: fake.fs,
    sleep: async () => {},
    signal: (pid) => {
      signalled.push(pid);
      fake!.set(`${CG}/pids/pelagos/k/cgroup.procs`, "");
    },
  });
  expect(signalled).toEqual([101]);
  // with every dir there, a failing freezer is still an error
  fake.fs.mkdir(freezerDir);
  rmSync(`${freezerDir}/freezer.state`);
  fake.set(`${CG}/pids/pelagos/k/cgroup.procs`, "102\n");
  fake.set(`${CG}/freezer/pelagos/k/cgroup.procs`, "102\n");
  await expect(killAll(m.dirs, { fs: fake.fs, sleep: async () => {}, signal: () => {} })).rejects.toThrow(/freezer.state/);
  fake.set(`${CG}/pids/pelagos/k/cgroup.procs`, "");
  fake.set(`${CG}/freezer/pelagos/k/cgroup.procs`, "");
  await m.destroy();
});

test("hybrid: v1 for the controllers it has, cgroup2 leaf for the dirfd, hugetlb only if enabled", async () => {
  fake = fakeCgroupfs({ mode: "hybrid", v2Controllers: ["hugetlb"] });
  await expect(
    CgroupManager.create({ id: "h", resources: { hugepageLimits: [{ pageSize: "2MB", limit: 2097152 }] } }, { fs: fake.fs, layout: fake.layout }),
  ).rejects.toThrow(/hugetlb 2MB limit.*"hugetlb" controller is not enabled/);
  const m = await CgroupManager.create({ id: "h", resources: { memory: { limit: 50 << 20 }, pids: { limit: 4 } } }, { fs: fake.fs, layout: fake.layout });
  expect(m.dirfd).toBeNumber();
  expect(m.dirs.unified).toBe(`${fake.root}${CG}/unified/pelagos/h`);
  expect(fake.writes.some(([p]) => p.startsWith(`${CG}/unified/cgroup.`))).toBe(false); // root not touched
  m.join(99);
  expect(readFileSync(`${fake.root}${CG}/unified/pelagos/h/cgroup.procs`, "utf8")).toBe("99");
  expect(readFileSync(`${fake.root}${CG}/memory/pelagos/h/cgroup.procs`, "utf8")).toBe("99");
  for (const f of procsFiles(m.dirs)) fake.set(f.slice(fake.root.length), "");
  await m.killAll();
  expect(fake.writes.some(([p, v]) => p === `${CG}/unified/pelagos/h/cgroup.kill` && v === "1")).toBe(true);
  await m.destroy();
  expect(existsSync(`${fake.root}${CG}/unified/pelagos/h`)).toBe(false);
});

test("docker's implicit swap (no --memory-swap) is skipped without swap accounting; an explicit one is an error", async () => {
  fake = fakeCgroupfs({ mode: "v1", v1: [["memory"]], without: ["memory.memsw.limit_in_bytes"] });
  const m = await CgroupManager.create({ id: "i", resources: { memory: { limit: 10 << 20, swap: 20 << 20, swapIsDefault: true } } }, { fs: fake.fs, layout: fake.layout });
  expect(fake.writes.map(([p]) => p.split("/").pop())).toEqual(["memory.limit_in_bytes"]);
  await m.destroy();
  await expect(
    CgroupManager.create({ id: "j", resources: { memory: { limit: 10 << 20, swap: 20 << 20 } } }, { fs: fake.fs, layout: fake.layout }),
  ).rejects.toThrow(/memory\+swap limit/);
});
