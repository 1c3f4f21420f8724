/** Facts about the host the plan depends on, gathered once by the caller (I/O) and passed in (pure plans). */
export type HostFacts = {
  arch: "x64" | "arm64";
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
  /** capabilities the runtime itself holds (its bounding set), by number */
  ownCaps: number[];
  /** "v2" pure unified; "hybrid" v1 controllers + cgroup2; "v1" */
  cgroups: "v2" | "hybrid" | "v1";
  /** v1/hybrid: the hierarchies under /sys/fs/cgroup (for a container's own view of them) */
  cgroupMounts?: import("./cgroup-mount.ts").CgroupMountFact[];
  /** kernel version [major, minor] (features like overlay "lowerdir+" depend on it) */
  kernel?: [number, number];
};
