import { expect, test } from "bun:test";
import { cgroupMountFacts } from "./cgroup-mount.ts";

test("cgroupMountFacts: controller hierarchies and the cgroup2 mount under /sys/fs/cgroup, named ones left out", () => {
  const mi = [
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    "50 23 0:40 / /mnt/elsewhere rw,relatime - cgroup cgroup rw,pids",
  ].join("\n");
  expect(cgroupMountFacts(mi)).toEqual([
    { dir: "cpu,cpuacct", fsType: "cgroup", options: [["cpu", null], ["cpuacct", null]] },
    { dir: "memory", fsType: "cgroup", options: [["memory", null]] },
    { dir: "unified", fsType: "cgroup2", options: [] },
  ]);
});
