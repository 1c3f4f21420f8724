/**
 * LinuxResources → cgroup v1 file writes (pure). OCI values are v1 values,
 * so this is mostly a mapping; the order of writes matters where the kernel
 * checks one file against another (period before quota, memory limit and
 * memsw, see the manager).
 */
import type { CgroupWrite, Plan } from "./plan-v2.ts";
import type { LinuxDeviceCgroupRule, LinuxResources, LinuxThrottleDevice } from "./resources.ts";

const set = (n: number | undefined): n is number => n !== undefined;

export function planV1(res: LinuxResources): Plan {
  const writes: CgroupWrite[] = [];
  const unsupported: string[] = [];
  const w = (controller: string, file: string, value: string, what: string) => writes.push({ controller, file, value, what });
  const m = res.memory;
  if (m) {
    if (set(m.limit) && m.limit !== 0) w("memory", "memory.limit_in_bytes", String(m.limit), "memory limit");
    if (set(m.swap) && m.swap !== 0) {
      writes.push({ controller: "memory", file: "memory.memsw.limit_in_bytes", value: String(m.swap), what: "memory+swap limit", optional: m.swapIsDefault === true });
    }
    if (set(m.reservation) && m.reservation !== 0) w("memory", "memory.soft_limit_in_bytes", String(m.reservation), "memory reservation");
    if (set(m.kernel) && m.kernel !== 0) w("memory", "memory.kmem.limit_in_bytes", String(m.kernel), "kernel memory limit");
    if (set(m.kernelTCP) && m.kernelTCP !== 0) w("memory", "memory.kmem.tcp.limit_in_bytes", String(m.kernelTCP), "kernel TCP memory limit");
    if (set(m.swappiness) && m.swappiness !== -1) w("memory", "memory.swappiness", String(m.swappiness), "memory swappiness");
    if (m.disableOOMKiller) w("memory", "memory.oom_control", "1", "disable OOM killer");
  }
  const c = res.cpu;
  if (c) {
    if (set(c.shares) && c.shares !== 0) w("cpu", "cpu.shares", String(c.shares), "CPU shares");
    // The kernel checks quota against the period: the period goes first.
    if (set(c.period) && c.period !== 0) w("cpu", "cpu.cfs_period_us", String(c.period), "CPU period");
    if (set(c.quota) && c.quota !== 0) w("cpu", "cpu.cfs_quota_us", String(c.quota > 0 ? c.quota : -1), "CPU quota");
    if (set(c.burst)) w("cpu", "cpu.cfs_burst_us", String(c.burst), "CPU burst");
    if (set(c.realtimePeriod) && c.realtimePeriod !== 0) w("cpu", "cpu.rt_period_us", String(c.realtimePeriod), "realtime CPU period");
    if (set(c.realtimeRuntime) && c.realtimeRuntime !== 0) w("cpu", "cpu.rt_runtime_us", String(c.realtimeRuntime), "realtime CPU runtime");
    if (set(c.idle) && c.idle !== 0) w("cpu", "cpu.idle", String(c.idle), "CPU idle policy");
    if (c.cpus) w("cpuset", "cpuset.cpus", c.cpus, "cpuset CPUs");
    if (c.mems) w("cpuset", "cpuset.mems", c.mems, "cpuset memory nodes");
  }
  if (res.pids && set(res.pids.limit)) w("pids", "pids.max", res.pids.limit > 0 ? String(res.pids.limit) : "max", "pids limit");
  planBlkio(res, writes);
  for (const h of res.hugepageLimits ?? []) {
    w("hugetlb", `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit), `hugetlb ${h.pageSize} limit`);
  }
  for (const rule of res.devices ?? []) {
    w("devices", rule.allow ? "devices.allow" : "devices.deny", deviceRuleV1(rule), "device rule");
  }
  const unified = Object.keys(res.unified ?? {});
  if (unified.length > 0) unsupported.push(`unified ${unified.map((k) => `"${k}"`).join(", ")} (cgroup v2 files on a host without cgroup v2 controllers)`);
  return { writes, unsupported };
}

function throttle(list: LinuxThrottleDevice[] | undefined, file: string, writes: CgroupWrite[], what: string): void {
  for (const d of list ?? []) writes.push({ controller: "blkio", file, value: `${d.major}:${d.minor} ${d.rate}`, what });
}

function planBlkio(res: LinuxResources, writes: CgroupWrite[]): void {
  const b = res.blockIO;
  if (!b) return;
  if (set(b.weight) && b.weight !== 0) {
    writes.push({
      controller: "blkio", file: "blkio.weight", value: String(b.weight), what: "block IO weight",
      fallback: { file: "blkio.bfq.weight", value: String(b.weight) },
    });
  }
  if (set(b.leafWeight) && b.leafWeight !== 0) {
    writes.push({ controller: "blkio", file: "blkio.leaf_weight", value: String(b.leafWeight), what: "block IO leaf weight" });
  }
  for (const d of b.weightDevice ?? []) {
    if (set(d.weight) && d.weight !== 0) {
      writes.push({
        controller: "blkio", file: "blkio.weight_device", value: `${d.major}:${d.minor} ${d.weight}`, what: "per-device block IO weight",
        fallback: { file: "blkio.bfq.weight_device", value: `${d.major}:${d.minor} ${d.weight}` },
      });
    }
    if (set(d.leafWeight) && d.leafWeight !== 0) {
      writes.push({ controller: "blkio", file: "blkio.leaf_weight_device", value: `${d.major}:${d.minor} ${d.leafWeight}`, what: "per-device block IO leaf weight" });
    }
  }
  throttle(b.throttleReadBpsDevice, "blkio.throttle.read_bps_device", writes, "device read bps");
  throttle(b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", writes, "device write bps");
  throttle(b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", writes, "device read IOPS");
  throttle(b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", writes, "device write IOPS");
}

/** "c 1:3 rwm", "a *:* rwm" — the devices.allow/deny syntax. */
export function deviceRuleV1(rule: LinuxDeviceCgroupRule): string {
  const num = (n: number | undefined) => (n === undefined || n < 0 ? "*" : String(n));
  return `${rule.type ?? "a"} ${num(rule.major)}:${num(rule.minor)} ${rule.access || "rwm"}`;
}
