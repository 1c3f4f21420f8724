/**
 * LinuxResources → the cgroup v2 file writes (pure). Values OCI expresses in
 * v1 terms are converted the way runc and crun convert them. Anything v2
 * cannot express is returned in `unsupported`, never dropped.
 */
import { blkioWeightToIoWeight, maxValue, sharesToWeight, swapToV2 } from "./convert.ts";
import type { LinuxResources, LinuxThrottleDevice } from "./resources.ts";

export type CgroupWrite = {
  /** Controller that must be enabled (v2) or mounted (v1) for the file to exist; "" = core file. */
  controller: string;
  file: string;
  value: string;
  /** What the user asked for, for error messages ("memory limit"). */
  what: string;
  /** Tried when `file` does not exist (io.bfq.weight for io.weight). */
  fallback?: { file: string; value: string };
  /** An implicit default, not something the user asked for: skipped when the file does not exist. */
  optional?: boolean;
};

export type Plan = { writes: CgroupWrite[]; unsupported: string[] };

export type PlanV2Options = { oomGroup?: boolean };

const set = (n: number | undefined): n is number => n !== undefined;

export function planV2(res: LinuxResources, opts: PlanV2Options = {}): Plan {
  const writes: CgroupWrite[] = [];
  const unsupported: string[] = [];
  const w = (controller: string, file: string, value: string, what: string) => writes.push({ controller, file, value, what });
  planMemory(res, opts, w, unsupported, writes);
  planCpu(res, w, unsupported);
  if (res.pids && set(res.pids.limit)) w("pids", "pids.max", res.pids.limit > 0 ? String(res.pids.limit) : "max", "pids limit");
  planIo(res, writes, unsupported);
  for (const h of res.hugepageLimits ?? []) {
    w("hugetlb", `hugetlb.${h.pageSize}.max`, maxValue(h.limit), `hugetlb ${h.pageSize} limit`);
  }
  for (const [file, value] of Object.entries(res.unified ?? {})) {
    if (file.includes("/") || file.startsWith("cgroup.") && !/^cgroup\.(max\.|freeze$)/.test(file)) {
      unsupported.push(`unified "${file}" (not a resource file of the container's cgroup)`);
      continue;
    }
    w(file.split(".")[0] ?? "", file, value, `unified "${file}"`);
  }
  return { writes, unsupported };
}

type W = (controller: string, file: string, value: string, what: string) => void;

function planMemory(res: LinuxResources, opts: PlanV2Options, w: W, unsupported: string[], writes: CgroupWrite[]): void {
  const m = res.memory;
  if (!m) return;
  if (set(m.reservation) && m.reservation !== 0) w("memory", "memory.low", maxValue(m.reservation), "memory reservation");
  if (set(m.limit) && m.limit !== 0) w("memory", "memory.max", maxValue(m.limit), "memory limit");
  const swap = swapToV2(m.swap, m.limit);
  if (swap !== undefined) {
    writes.push({ controller: "memory", file: "memory.swap.max", value: maxValue(swap), what: "memory+swap limit", optional: m.swapIsDefault === true });
  }
  if (opts.oomGroup && set(m.limit) && m.limit > 0) w("memory", "memory.oom.group", "1", "OOM kills the whole container");
  if (set(m.kernel) && m.kernel !== 0) unsupported.push("kernel memory limit (memory.kernel): cgroup v2 has no separate kernel memory limit");
  if (set(m.kernelTCP) && m.kernelTCP !== 0) unsupported.push("kernel TCP memory limit (memory.kernelTCP) on cgroup v2");
  if (set(m.swappiness) && m.swappiness !== -1) unsupported.push("memory swappiness (memory.swappiness): cgroup v2 has no per-cgroup swappiness");
  if (m.disableOOMKiller) unsupported.push("disabling the OOM killer (memory.disableOOMKiller): not available on cgroup v2");
}

function planCpu(res: LinuxResources, w: W, unsupported: string[]): void {
  const c = res.cpu;
  if (!c) return;
  if (set(c.shares) && c.shares !== 0) w("cpu", "cpu.weight", String(sharesToWeight(c.shares)), "CPU shares");
  if ((set(c.quota) && c.quota !== 0) || (set(c.period) && c.period !== 0)) {
    const quota = set(c.quota) && c.quota > 0 ? String(c.quota) : "max";
    const period = set(c.period) && c.period > 0 ? c.period : 100000;
    w("cpu", "cpu.max", `${quota} ${period}`, "CPU quota");
  }
  if (set(c.burst)) w("cpu", "cpu.max.burst", String(c.burst), "CPU burst");
  if (set(c.idle) && c.idle !== 0) w("cpu", "cpu.idle", String(c.idle), "CPU idle policy");
  if ((set(c.realtimeRuntime) && c.realtimeRuntime !== 0) || (set(c.realtimePeriod) && c.realtimePeriod !== 0)) {
    unsupported.push("realtime CPU runtime/period (cpu.realtimeRuntime, cpu.realtimePeriod): cgroup v2 has no RT group scheduling");
  }
  if (c.cpus) w("cpuset", "cpuset.cpus", c.cpus, "cpuset CPUs");
  if (c.mems) w("cpuset", "cpuset.mems", c.mems, "cpuset memory nodes");
}

function throttle(list: LinuxThrottleDevice[] | undefined, key: string, writes: CgroupWrite[], what: string): void {
  for (const d of list ?? []) {
    writes.push({ controller: "io", file: "io.max", value: `${d.major}:${d.minor} ${key}=${d.rate === 0 ? "max" : d.rate}`, what });
  }
}

function planIo(res: LinuxResources, writes: CgroupWrite[], unsupported: string[]): void {
  const b = res.blockIO;
  if (!b) return;
  if (set(b.weight) && b.weight !== 0) {
    // io.bfq.weight takes the v1 range (1..1000) unchanged; io.weight wants 1..10000.
    const v = blkioWeightToIoWeight(b.weight);
    writes.push({
      controller: "io", file: "io.bfq.weight", value: String(b.weight), what: "block IO weight",
      fallback: { file: "io.weight", value: `default ${v}` },
    });
  }
  for (const d of b.weightDevice ?? []) {
    if (set(d.weight) && d.weight !== 0) {
      writes.push({
        controller: "io", file: "io.bfq.weight", value: `${d.major}:${d.minor} ${d.weight}`, what: "per-device block IO weight",
        fallback: { file: "io.weight", value: `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}` },
      });
    }
    if (set(d.leafWeight) && d.leafWeight !== 0) unsupported.push("per-device block IO leaf weight on cgroup v2");
  }
  if (set(b.leafWeight) && b.leafWeight !== 0) unsupported.push("block IO leaf weight (blockIO.leafWeight): not available on cgroup v2");
  throttle(b.throttleReadBpsDevice, "rbps", writes, "device read bps");
  throttle(b.throttleWriteBpsDevice, "wbps", writes, "device write bps");
  throttle(b.throttleReadIOPSDevice, "riops", writes, "device read IOPS");
  throttle(b.throttleWriteIOPSDevice, "wiops", writes, "device write IOPS");
}
