/**
 * docker run resource flags → LinuxResources, with docker's semantics and
 * its error messages' meaning (pure; device paths are resolved by the caller
 * through `statRdev`, injectable for tests).
 */
import { statSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { devNumbers, parseBytes } from "./convert.ts";
import type { LinuxResources, LinuxThrottleDevice } from "./resources.ts";

export type DockerResourceFlags = {
  memory?: string;
  /** "-1" = unlimited swap */
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  cpus?: string;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  /** "PATH:RATE", e.g. "/dev/sda:1mb" */
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
};

export type StatRdev = (path: string) => number;

const hostStatRdev: StatRdev = (path) => {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(`Cannot use device "${path}": ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (!st.isBlockDevice()) throw new UsageError(`Cannot use "${path}" for IO limits: not a block device`);
  return st.rdev;
};

function size(flag: string, text: string): number {
  try {
    return parseBytes(text);
  } catch {
    throw new UsageError(`Invalid value "${text}" for --${flag}: expected a size such as "512m" or "1g"`);
  }
}

/** "/dev/sda:1mb" → {major, minor, rate}. `iops` rates are plain integers. */
export function parseThrottleDevice(flag: string, text: string, iops: boolean, stat: StatRdev = hostStatRdev): LinuxThrottleDevice {
  const i = text.lastIndexOf(":");
  if (i <= 0) throw new UsageError(`Invalid value "${text}" for --${flag}: expected "DEVICE_PATH:RATE"`);
  const path = text.slice(0, i);
  const rateText = text.slice(i + 1);
  let rate: number;
  if (iops) {
    if (!/^\d+$/.test(rateText)) throw new UsageError(`Invalid value "${text}" for --${flag}: the rate must be a positive integer`);
    rate = Number(rateText);
  } else rate = size(flag, rateText);
  return { ...devNumbers(stat(path)), rate };
}

export function dockerResources(f: DockerResourceFlags, stat: StatRdev = hostStatRdev): LinuxResources {
  const res: LinuxResources = {};
  const memory = f.memory === undefined ? undefined : size("memory", f.memory);
  if (memory !== undefined && memory > 0 && memory < 6 * 1024 * 1024) {
    throw new UsageError(`Invalid value "${f.memory}" for --memory: the minimum is 6MB`);
  }
  if (f.memorySwap !== undefined || memory !== undefined || f.memoryReservation !== undefined || f.memorySwappiness !== undefined || f.oomKillDisable) {
    res.memory = {};
    if (memory !== undefined) res.memory.limit = memory;
    if (f.memorySwap !== undefined) {
      const swap = f.memorySwap.trim() === "-1" ? -1 : size("memory-swap", f.memorySwap);
      if (memory === undefined && swap !== -1) throw new UsageError("Cannot use --memory-swap without --memory: set the memory limit too");
      if (swap !== -1 && memory !== undefined && swap < memory) {
        throw new UsageError(`Invalid value "${f.memorySwap}" for --memory-swap: it must be at least --memory ("${f.memory}")`);
      }
      res.memory.swap = swap;
    } else if (memory !== undefined && memory > 0) {
      // docker: without --memory-swap the container may use as much swap as memory.
      res.memory.swap = memory * 2;
      res.memory.swapIsDefault = true;
    }
    if (f.memoryReservation !== undefined) {
      const r = size("memory-reservation", f.memoryReservation);
      if (memory !== undefined && memory > 0 && r > memory) {
        throw new UsageError("Invalid --memory-reservation: it must be smaller than --memory");
      }
      res.memory.reservation = r;
    }
    if (f.memorySwappiness !== undefined) {
      if (f.memorySwappiness < -1 || f.memorySwappiness > 100) throw new UsageError(`Invalid value "${f.memorySwappiness}" for --memory-swappiness: expected 0 to 100`);
      res.memory.swappiness = f.memorySwappiness;
    }
    if (f.oomKillDisable) res.memory.disableOOMKiller = true;
  }
  res.cpu = cpu(f);
  if (Object.keys(res.cpu).length === 0) delete res.cpu;
  if (f.pidsLimit !== undefined) res.pids = { limit: f.pidsLimit > 0 ? f.pidsLimit : -1 };
  blockIO(f, res, stat);
  return res;
}

function cpu(f: DockerResourceFlags): NonNullable<LinuxResources["cpu"]> {
  const c: NonNullable<LinuxResources["cpu"]> = {};
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`Invalid value "${f.cpus}" for --cpus: expected a number of CPUs such as "1.5"`);
    if (f.cpuPeriod !== undefined || f.cpuQuota !== undefined) {
      throw new UsageError("Cannot use --cpus with --cpu-period or --cpu-quota: they set the same limit");
    }
    if (n > 0) {
      c.period = 100000;
      c.quota = Math.round(n * 100000);
    }
  }
  if (f.cpuPeriod !== undefined) {
    if (f.cpuPeriod !== 0 && (f.cpuPeriod < 1000 || f.cpuPeriod > 1000000)) throw new UsageError("Invalid --cpu-period: expected 1000 to 1000000 microseconds");
    c.period = f.cpuPeriod;
  }
  if (f.cpuQuota !== undefined) {
    if (f.cpuQuota > 0 && f.cpuQuota < 1000) throw new UsageError("Invalid --cpu-quota: the minimum is 1000 microseconds");
    c.quota = f.cpuQuota;
  }
  if (f.cpuShares !== undefined && f.cpuShares !== 0) c.shares = f.cpuShares;
  if (f.cpusetCpus !== undefined) c.cpus = f.cpusetCpus;
  if (f.cpusetMems !== undefined) c.mems = f.cpusetMems;
  return c;
}

function blockIO(f: DockerResourceFlags, res: LinuxResources, stat: StatRdev): void {
  const b: NonNullable<LinuxResources["blockIO"]> = {};
  if (f.blkioWeight !== undefined && f.blkioWeight !== 0) {
    if (f.blkioWeight < 10 || f.blkioWeight > 1000) throw new UsageError(`Invalid value "${f.blkioWeight}" for --blkio-weight: expected 10 to 1000`);
    b.weight = f.blkioWeight;
  }
  const list = (flag: string, items: string[] | undefined, iops: boolean) =>
    items === undefined || items.length === 0 ? undefined : items.map((t) => parseThrottleDevice(flag, t, iops, stat));
  const rb = list("device-read-bps", f.deviceReadBps, false);
  const wb = list("device-write-bps", f.deviceWriteBps, false);
  const ri = list("device-read-iops", f.deviceReadIops, true);
  const wi = list("device-write-iops", f.deviceWriteIops, true);
  if (rb) b.throttleReadBpsDevice = rb;
  if (wb) b.throttleWriteBpsDevice = wb;
  if (ri) b.throttleReadIOPSDevice = ri;
  if (wi) b.throttleWriteIOPSDevice = wi;
  if (Object.keys(b).length > 0) res.blockIO = b;
}
