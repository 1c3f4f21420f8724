/**
 * The input shape of the cgroup manager: a TypeScript mirror of the OCI
 * runtime-spec `linux.resources` object (config-linux.md, "Control groups").
 * Values keep OCI meaning: memory sizes in bytes, `swap` is memory+swap (the
 * cgroup v1 `memsw` meaning), -1 means unlimited, CPU times in microseconds.
 */

export type LinuxDeviceCgroupRule = {
  allow: boolean;
  /** "a" (all), "c" or "b"; absent = "a" */
  type?: "a" | "c" | "b";
  /** absent or -1 = any */
  major?: number;
  minor?: number;
  /** any combination of "r", "w", "m"; absent = "rwm" */
  access?: string;
};

export type LinuxMemory = {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
  /**
   * pelagos extension (not OCI): `swap` is docker's implicit default (2 × limit, no
   * --memory-swap given), so a host without swap accounting skips it instead of failing.
   */
  swapIsDefault?: boolean;
};

export type LinuxCPU = {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
};

export type LinuxPids = { limit: number };

export type LinuxWeightDevice = { major: number; minor: number; weight?: number; leafWeight?: number };
export type LinuxThrottleDevice = { major: number; minor: number; rate: number };

export type LinuxBlockIO = {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
};

/** `pageSize` as the kernel names it in hugetlb files: "2MB", "1GB", "64KB". */
export type LinuxHugepageLimit = { pageSize: string; limit: number };

export type LinuxResources = {
  devices?: LinuxDeviceCgroupRule[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  /** cgroup v2 only: file name (relative to the container's cgroup) → value */
  unified?: Record<string, string>;
};
