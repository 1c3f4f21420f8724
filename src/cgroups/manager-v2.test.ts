import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { CgroupManager } from "./manager.ts";
import { killAll, procsFiles } from "./kill.ts";
import type { LinuxResources } from "./resources.ts";
import { type FakeCgroupfs, fakeCgroupfs } from "./testing/fake-cgroupfs.ts";

let fake: FakeCgroupfs | undefined;
afterEach(() => fake?.cleanup());

const FULL: LinuxResources = {
  memory: { limit: 256 * 1024 * 1024, reservation: 128 * 1024 * 1024, swap: 512 * 1024 * 1024 },
  cpu: { shares: 1024, quota: 50000, period: 100000, cpus: "0", mems: "0", idle: 1 },
  pids: { limit: 64 },
  blockIO: {
    weight: 500,
    weightDevice: [{ major: 8, minor: 0, weight: 100 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2048 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }],
  },
  hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
  unified: { "memory.high": "200000000" },
};

test("v2: creates pelagos/<id>, enables controllers in our parent, writes every file", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  const installs: number[] = [];
  const m = await CgroupManager.create(
    { id: "c1", resources: FULL },
    { fs: fake.fs, layout: fake.layout, installDeviceProgram: (fd) => void installs.push(fd) },
  );
  const base = "/sys/fs/cgroup/pelagos/c1";
  expect(fake.writes.filter(([p]) => p === "/sys/fs/cgroup/pelagos/cgroup.subtree_control").map(([, v]) => v))
    .toEqual(["+cpuset", "+cpu", "+io", "+memory", "+hugetlb", "+pids"]);
  const mine = fake.writes.filter(([p]) => p.startsWith(`${base}/`)).map(([p, v]) => `${p.slice(base.length + 1)}=${v}`);
  expect(mine).toEqual([
    "memory.low=134217728",
    "memory.max=268435456",
    "memory.swap.max=268435456",
    "memory.oom.group=1",
    "cpu.weight=39",
    "cpu.max=50000 100000",
    "cpu.idle=1",
    "cpuset.cpus=0",
    "cpuset.mems=0",
    "pids.max=64",
    "io.weight=default 4950",
    "io.weight=8:0 910", // 1 + (100 - 10) * 9999 / 990
    "io.max=8:0 rbps=1048576",
    "io.max=8:0 wbps=2048",
    "io.max=8:0 riops=100",
    "io.max=8:0 wiops=200",
    "hugetlb.2MB.max=4194304",
    "memory.high=200000000",
  ]);
  expect(m.dirfd).toBeNumber();
  expect(Object.keys(m.dirs.v1)).toEqual([]);
  expect(procsFiles(m.dirs)).toEqual([`${fake.root}${base}/cgroup.procs`]);
  expect(installs).toEqual([]); // no device rules given
  await m.destroy();
  expect(existsSync(`${fake.root}${base}`)).toBe(false);
  expect(existsSync(`${fake.root}/sys/fs/cgroup/pelagos`)).toBe(true); // shared parent stays
});

test("v2: device rules install an eBPF program on the leaf", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  const progs: (Uint8Array | undefined)[] = [];
  const m = await CgroupManager.create(
    { id: "d", resources: { devices: [{ allow: false }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }] } },
    { fs: fake.fs, layout: fake.layout, installDeviceProgram: (_fd, insns) => void progs.push(insns) },
  );
  expect(progs.length).toBe(1);
  expect(progs[0]!.byteLength).toBe(13 * 8);
  await m.update({ devices: [] });
  expect(progs.length).toBe(1);
  await m.update({ devices: [{ allow: true, access: "rwm" }] });
  expect(progs).toEqual([progs[0], undefined]); // allow-all: detach
  await expect(m.update({ devices: [{ allow: true, access: "x" }], pids: { limit: 3 } })).rejects.toThrow(/invalid access "x"/);
  expect(readFileSync(`${fake.root}/sys/fs/cgroup/pelagos/d/pids.max`, "utf8")).toBe(""); // nothing written
  await m.destroy();
});

test("v2: io.bfq.weight is preferred when present (takes the v1 range)", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  fake.fs.mkdir(`${fake.root}/sys/fs/cgroup/pelagos`);
  fake.set("/sys/fs/cgroup/pelagos/cgroup.subtree_control", "io\n");
  const orig = fake.fs.mkdir;
  fake.fs.mkdir = (p) => {
    const r = orig(p);
    if (p.endsWith("/b")) fake!.set(p.slice(fake!.root.length) + "/io.bfq.weight", "");
    return r;
  };
  const m = await CgroupManager.create({ id: "b", resources: { blockIO: { weight: 300 } } }, { fs: fake.fs, layout: fake.layout });
  expect(readFileSync(`${fake.root}/sys/fs/cgroup/pelagos/b/io.bfq.weight`, "utf8")).toBe("300");
  await m.destroy();
});

test("v2: limits v2 cannot express are an error listing each, and nothing is left behind", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  const p = CgroupManager.create(
    { id: "u", resources: { memory: { limit: 1 << 30, swappiness: 10, disableOOMKiller: true }, cpu: { realtimeRuntime: 1000 } } },
    { fs: fake.fs, layout: fake.layout },
  );
  await expect(p).rejects.toThrow(/swappiness.*OOM killer.*realtime/);
  expect(existsSync(`${fake.root}/sys/fs/cgroup/pelagos/u`)).toBe(false);
});

test("v2: a controller not enabled above our parent is reported, not skipped", async () => {
  fake = fakeCgroupfs({ mode: "v2", v2Controllers: ["memory"] });
  await expect(
    CgroupManager.create({ id: "p", resources: { pids: { limit: 5 } } }, { fs: fake.fs, layout: fake.layout }),
  ).rejects.toThrow(/pids limit \("pids.max"\): the "pids" controller is not enabled/);
  expect(existsSync(`${fake.root}/sys/fs/cgroup/pelagos/p`)).toBe(false);
});

test("v2: existing leaf is refused; custom parent we did not create is not modified", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  fake.fs.mkdir(`${fake.root}/sys/fs/cgroup/theirs`);
  fake.set("/sys/fs/cgroup/theirs/cgroup.subtree_control", "memory pids\n");
  fake.writes.length = 0;
  const m = await CgroupManager.create({ id: "x", parent: "/theirs", resources: { pids: { limit: 3 } } }, { fs: fake.fs, layout: fake.layout });
  expect(fake.writes.some(([p]) => p.startsWith("/sys/fs/cgroup/theirs/cgroup."))).toBe(false);
  await expect(CgroupManager.create({ id: "x", parent: "/theirs" }, { fs: fake.fs, layout: fake.layout })).rejects.toThrow(/already exists/);
  await m.destroy();
  expect(existsSync(`${fake.root}/sys/fs/cgroup/theirs`)).toBe(true);
});

test("v2: update, freeze/thaw, stats, oomKilled, killAll with cgroup.kill, join", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  const m = await CgroupManager.create({ id: "s" }, { fs: fake.fs, layout: fake.layout });
  const base = "/sys/fs/cgroup/pelagos/s";
  await m.update({ cpu: { quota: 50000 } });
  expect(readFileSync(`${fake.root}${base}/cpu.max`, "utf8")).toBe("50000 100000");
  await m.freeze();
  expect(readFileSync(`${fake.root}${base}/cgroup.freeze`, "utf8")).toBe("1");
  await m.thaw();
  expect(readFileSync(`${fake.root}${base}/cgroup.freeze`, "utf8")).toBe("0");
  fake.set(`${base}/cpu.stat`, "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 900\n");
  fake.set(`${base}/memory.current`, "4096\n");
  fake.set(`${base}/memory.max`, "max\n");
  fake.set(`${base}/pids.current`, "2\n");
  fake.set(`${base}/pids.max`, "10\n");
  fake.set(`${base}/io.stat`, "8:0 rbytes=100 wbytes=50 rios=1 wios=1\n8:16 rbytes=1 wbytes=2\n");
  expect(m.stats()).toEqual({
    cpu: { usageUsec: 1500, userUsec: 1000, systemUsec: 500, nrPeriods: 10, nrThrottled: 4, throttledUsec: 900 },
    memory: { usage: 4096, limit: undefined, peak: undefined, swapUsage: undefined },
    pids: { current: 2, limit: 10 },
    io: { readBytes: 101, writeBytes: 52 },
  });
  expect(m.oomKilled()).toBe(false);
  fake.set(`${base}/memory.events`, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  expect(m.oomKilled()).toBe(true);
  m.join(4242);
  expect(readFileSync(`${fake.root}${base}/cgroup.procs`, "utf8")).toBe("4242");
  fake.set(`${base}/cgroup.procs`, "");
  await m.killAll();
  expect(fake.writes.some(([p, v]) => p === `${base}/cgroup.kill` && v === "1")).toBe(true);
  const state = m.state();
  await CgroupManager.fromState(state, { fs: fake.fs }).destroy();
  expect(existsSync(`${fake.root}${base}`)).toBe(false);
});

test("v2 killAll while the container's own pelagos removes the cgroup: cgroup.kill gone before it is written is no error", async () => {
  fake = fakeCgroupfs({ mode: "v2" });
  const m = await CgroupManager.create({ id: "r" }, { fs: fake.fs, layout: fake.layout });
  const dir = m.dirs.unified!;
  // the other destroyer removes the dir between the exists() check and the write
  const fs = { ...fake.fs, write: (p: string, v: string) => (p.endsWith("/cgroup.kill") ? (fake!.fs.rmdir(dir), fake!.fs.write(p, v)) : fake!.fs.write(p, v)) };
  await killAll(m.dirs, { fs, sleep: async () => {} });
  expect(existsSync(dir)).toBe(false);
  // with the dir still there, a failing write is an error
  const m2 = await CgroupManager.create({ id: "r2" }, { fs: fake.fs, layout: fake.layout });
  const failing = { ...fake.fs, write: (p: string, v: string) => (p.endsWith("/cgroup.kill") ? fake!.fs.write(`${p}-missing/x`, v) : fake!.fs.write(p, v)) };
  await expect(killAll(m2.dirs, { fs: failing, sleep: async () => {} })).rejects.toThrow(/cgroup.kill-missing/);
  await m2.destroy();
});
