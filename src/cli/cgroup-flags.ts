/**
 * docker's resource flags, shared by `pelagos run` and `pelagos update`:
 * declarations (spread into a command's args) and their parsed values as
 * DockerResourceFlags (src/cgroups/docker-flags.ts validates and converts).
 */
import type { DockerResourceFlags } from "../cgroups/docker-flags.ts";
import { UsageError } from "../errors.ts";
import { bool, list, str, type FlagDef, type Parsed } from "./argv.ts";

export const resourceArgs = {
  memory: { type: "string", alias: "m", description: "Memory limit (e.g. 512m, 1g)" },
  "memory-swap": { type: "string", description: "Memory plus swap limit; -1 for unlimited swap" },
  "memory-reservation": { type: "string", description: "Memory soft limit" },
  "memory-swappiness": { type: "string", description: "Swappiness of the container's memory (0 to 100)" },
  "oom-kill-disable": { type: "boolean", description: "Do not OOM-kill the container's processes (cgroup v1 only)" },
  cpus: { type: "string", description: "Number of CPUs (e.g. 1.5)" },
  "cpu-quota": { type: "string", description: "CFS quota in microseconds per period" },
  "cpu-period": { type: "string", description: "CFS period in microseconds" },
  "cpu-shares": { type: "string", alias: "c", description: "Relative CPU weight (default 1024)" },
  "cpuset-cpus": { type: "string", description: "CPUs the container may use (e.g. 0-1, 0,2)" },
  "cpuset-mems": { type: "string", description: "Memory nodes the container may use" },
  "pids-limit": { type: "string", description: "Maximum number of processes (-1 for unlimited)" },
  "blkio-weight": { type: "string", description: "Relative block IO weight (10 to 1000)" },
  "device-read-bps": { type: "string", multiple: true, description: "Limit reads from a device (DEVICE:RATE, e.g. /dev/sda:1mb)" },
  "device-write-bps": { type: "string", multiple: true, description: "Limit writes to a device (DEVICE:RATE)" },
  "device-read-iops": { type: "string", multiple: true, description: "Limit read operations per second (DEVICE:N)" },
  "device-write-iops": { type: "string", multiple: true, description: "Limit write operations per second (DEVICE:N)" },
} as const satisfies Record<string, FlagDef>;

function int(p: Parsed, name: string): number | undefined {
  const s = str(p, name);
  if (s === undefined) return undefined;
  if (!/^-?\d+$/.test(s.trim())) throw new UsageError(`Invalid value "${s}" for --${name}: expected an integer`);
  return Number(s);
}

/** The resource flags given on the command line (undefined when none was). */
export function resourceFlags(p: Parsed): DockerResourceFlags | undefined {
  const f: DockerResourceFlags = {
    memory: str(p, "memory"), memorySwap: str(p, "memory-swap"), memoryReservation: str(p, "memory-reservation"),
    memorySwappiness: int(p, "memory-swappiness"), oomKillDisable: bool(p, "oom-kill-disable") || undefined,
    cpus: str(p, "cpus"), cpuQuota: int(p, "cpu-quota"), cpuPeriod: int(p, "cpu-period"), cpuShares: int(p, "cpu-shares"),
    cpusetCpus: str(p, "cpuset-cpus"), cpusetMems: str(p, "cpuset-mems"), pidsLimit: int(p, "pids-limit"),
    blkioWeight: int(p, "blkio-weight"),
    deviceReadBps: list(p, "device-read-bps"), deviceWriteBps: list(p, "device-write-bps"),
    deviceReadIops: list(p, "device-read-iops"), deviceWriteIops: list(p, "device-write-iops"),
  };
  const given = Object.values(f).some((x) => (Array.isArray(x) ? x.length > 0 : x !== undefined));
  return given ? f : undefined;
}
