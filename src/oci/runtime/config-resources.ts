/** `linux.resources`: the whole OCI LinuxResources object (cgroup limits). */
import * as v from "valibot";
import { bool, i64, intIn, obj, oneOf, rec, show, str, strMap, u32, u64 } from "./fields.ts";

const ACCESS = /^(?!.*(.).*\1)[rwm]{0,3}$/;
const deviceAccess = v.custom<string>(
  (s) => typeof s === "string" && ACCESS.test(s),
  (i) => `must be a combination of "r", "w" and "m", got ${show(i.input)}`,
);

export const DeviceRuleSchema = obj({
  allow: bool,
  type: v.optional(oneOf(["a", "c", "b"] as const)),
  major: v.optional(i64),
  minor: v.optional(i64),
  access: v.optional(deviceAccess),
});

export const MemorySchema = obj({
  limit: v.optional(i64),
  reservation: v.optional(i64),
  swap: v.optional(i64),
  kernel: v.optional(i64),
  kernelTCP: v.optional(i64),
  swappiness: v.optional(intIn(0, 100, "an integer from 0 to 100")),
  disableOOMKiller: v.optional(bool),
  useHierarchy: v.optional(bool),
  checkBeforeUpdate: v.optional(bool),
});

export const CpuSchema = obj({
  shares: v.optional(u64),
  quota: v.optional(i64),
  burst: v.optional(u64),
  period: v.optional(u64),
  realtimeRuntime: v.optional(i64),
  realtimePeriod: v.optional(u64),
  cpus: v.optional(str),
  mems: v.optional(str),
  idle: v.optional(i64),
});

/** blkio weights are 10..1000; 0 is tolerated as "unset", as runc does. */
const blkioWeight = v.custom<number>(
  (n) => n === 0 || (typeof n === "number" && Number.isInteger(n) && n >= 10 && n <= 1000),
  (i) => `must be from 10 to 1000, got ${show(i.input)}`,
);

export const WeightDeviceSchema = obj({
  major: i64,
  minor: i64,
  weight: v.optional(blkioWeight),
  leafWeight: v.optional(blkioWeight),
});

export const ThrottleDeviceSchema = obj({ major: i64, minor: i64, rate: u64 });

export const BlockIoSchema = obj({
  weight: v.optional(blkioWeight),
  leafWeight: v.optional(blkioWeight),
  weightDevice: v.optional(v.array(WeightDeviceSchema)),
  throttleReadBpsDevice: v.optional(v.array(ThrottleDeviceSchema)),
  throttleWriteBpsDevice: v.optional(v.array(ThrottleDeviceSchema)),
  throttleReadIOPSDevice: v.optional(v.array(ThrottleDeviceSchema)),
  throttleWriteIOPSDevice: v.optional(v.array(ThrottleDeviceSchema)),
});

const PAGE_SIZE = /^[0-9]+[KMGT]?B$/;
const pageSize = v.custom<string>(
  (s) => typeof s === "string" && PAGE_SIZE.test(s),
  (i) => `must be a page size like "2MB", got ${show(i.input)}`,
);

export const HugepageLimitSchema = obj({ pageSize, limit: u64 });

export const NetworkSchema = obj({
  classID: v.optional(u32),
  priorities: v.optional(v.array(obj({ name: str, priority: u32 }))),
});

export const PidsSchema = obj({ limit: i64 });

export const RdmaSchema = obj({ hcaHandles: v.optional(u32), hcaObjects: v.optional(u32) });

export const ResourcesSchema = obj({
  devices: v.optional(v.array(DeviceRuleSchema)),
  memory: v.optional(MemorySchema),
  cpu: v.optional(CpuSchema),
  pids: v.optional(PidsSchema),
  blockIO: v.optional(BlockIoSchema),
  hugepageLimits: v.optional(v.array(HugepageLimitSchema)),
  network: v.optional(NetworkSchema),
  rdma: v.optional(rec(str, RdmaSchema)),
  unified: v.optional(strMap),
});

export type OciResources = v.InferOutput<typeof ResourcesSchema>;
export type OciDeviceRule = v.InferOutput<typeof DeviceRuleSchema>;
export type OciMemory = v.InferOutput<typeof MemorySchema>;
export type OciCpu = v.InferOutput<typeof CpuSchema>;
export type OciBlockIo = v.InferOutput<typeof BlockIoSchema>;
export type OciWeightDevice = v.InferOutput<typeof WeightDeviceSchema>;
export type OciThrottleDevice = v.InferOutput<typeof ThrottleDeviceSchema>;
export type OciHugepageLimit = v.InferOutput<typeof HugepageLimitSchema>;
export type OciPids = v.InferOutput<typeof PidsSchema>;
