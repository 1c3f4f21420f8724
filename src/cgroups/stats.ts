/** Reads usage counters from the container's cgroup files (v2 leaf, or the v1 controller dirs). */
import type { CgroupDirs } from "./apply.ts";
import type { CgroupFs } from "./cgroupfs.ts";

export type CgroupStats = {
  cpu?: { usageUsec: number; userUsec?: number; systemUsec?: number; nrPeriods?: number; nrThrottled?: number; throttledUsec?: number };
  /** limit undefined = unlimited */
  memory?: { usage: number; limit: number | undefined; peak?: number; swapUsage?: number };
  pids?: { current: number; limit: number | undefined };
  io?: { readBytes: number; writeBytes: number };
};

/** "key value" lines → record (cpu.stat, memory.events, memory.oom_control). */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === "max" || t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** v1 reports "unlimited" as a huge page-aligned number. */
function v1Limit(text: string | undefined): number | undefined {
  const n = num(text);
  return n === undefined || n >= 2 ** 62 ? undefined : n;
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=..." per device. */
export function parseIoStat(text: string | undefined): { readBytes: number; writeBytes: number } {
  let readBytes = 0, writeBytes = 0;
  for (const m of (text ?? "").matchAll(/\b(rbytes|wbytes)=(\d+)/g)) {
    if (m[1] === "rbytes") readBytes += Number(m[2]);
    else writeBytes += Number(m[2]);
  }
  return { readBytes, writeBytes };
}

/** blkio.throttle.io_service_bytes(_recursive): "8:0 Read 123" lines (and a "Total" line). */
export function parseBlkioBytes(text: string | undefined): { readBytes: number; writeBytes: number } {
  let readBytes = 0, writeBytes = 0;
  for (const m of (text ?? "").matchAll(/^\d+:\d+ (Read|Write) (\d+)$/gm)) {
    if (m[1] === "Read") readBytes += Number(m[2]);
    else writeBytes += Number(m[2]);
  }
  return { readBytes, writeBytes };
}

export function readStats(dirs: CgroupDirs, fs: CgroupFs): CgroupStats {
  const u = dirs.unified;
  const v2 = (f: string) => (u === undefined ? undefined : fs.tryRead(`${u}/${f}`));
  const v1 = (c: string, f: string) => (dirs.v1[c] === undefined ? undefined : fs.tryRead(`${dirs.v1[c]}/${f}`));
  const out: CgroupStats = {};
  const isV1 = Object.keys(dirs.v1).length > 0;
  if (!isV1) {
    const cpu = parseKeyValues(v2("cpu.stat"));
    if (cpu.usage_usec !== undefined) {
      out.cpu = {
        usageUsec: cpu.usage_usec, userUsec: cpu.user_usec, systemUsec: cpu.system_usec,
        nrPeriods: cpu.nr_periods, nrThrottled: cpu.nr_throttled, throttledUsec: cpu.throttled_usec,
      };
    }
    const cur = num(v2("memory.current"));
    if (cur !== undefined) out.memory = { usage: cur, limit: num(v2("memory.max")), peak: num(v2("memory.peak")), swapUsage: num(v2("memory.swap.current")) };
    const pids = num(v2("pids.current"));
    if (pids !== undefined) out.pids = { current: pids, limit: num(v2("pids.max")) };
    const io = v2("io.stat");
    if (io !== undefined) out.io = parseIoStat(io);
    return out;
  }
  const usageNs = num(v1("cpuacct", "cpuacct.usage"));
  const cpuStat = parseKeyValues(v1("cpu", "cpu.stat"));
  const cpuacct = parseKeyValues(v1("cpuacct", "cpuacct.stat"));
  const ticks = 1_000_000 / 100; // USER_HZ is 100 on every Linux ABI
  if (usageNs !== undefined) {
    out.cpu = {
      usageUsec: Math.floor(usageNs / 1000),
      userUsec: cpuacct.user === undefined ? undefined : cpuacct.user * ticks,
      systemUsec: cpuacct.system === undefined ? undefined : cpuacct.system * ticks,
      nrPeriods: cpuStat.nr_periods, nrThrottled: cpuStat.nr_throttled,
      throttledUsec: cpuStat.throttled_time === undefined ? undefined : Math.floor(cpuStat.throttled_time / 1000),
    };
  }
  const usage = num(v1("memory", "memory.usage_in_bytes"));
  if (usage !== undefined) {
    out.memory = { usage, limit: v1Limit(v1("memory", "memory.limit_in_bytes")), peak: num(v1("memory", "memory.max_usage_in_bytes")) };
  }
  const pids = num(v1("pids", "pids.current"));
  if (pids !== undefined) out.pids = { current: pids, limit: num(v1("pids", "pids.max")) };
  const io = v1("blkio", "blkio.throttle.io_service_bytes_recursive") ?? v1("blkio", "blkio.throttle.io_service_bytes");
  if (io !== undefined) out.io = parseBlkioBytes(io);
  return out;
}

/** Whether the kernel OOM-killed a process of the cgroup. */
export function readOomKilled(dirs: CgroupDirs, fs: CgroupFs): boolean {
  if (dirs.v1.memory !== undefined) {
    const oc = parseKeyValues(fs.tryRead(`${dirs.v1.memory}/memory.oom_control`));
    if (oc.oom_kill !== undefined) return oc.oom_kill > 0;
    // Kernels before 4.13 have no oom_kill counter: being under OOM, or having hit the limit, is the best evidence.
    if (oc.under_oom === 1) return true;
    return (num(fs.tryRead(`${dirs.v1.memory}/memory.failcnt`)) ?? 0) > 0;
  }
  if (dirs.unified === undefined) return false;
  const ev = parseKeyValues(fs.tryRead(`${dirs.unified}/memory.events`));
  return (ev.oom_kill ?? 0) > 0 || (ev.oom_group_kill ?? 0) > 0;
}
