import { describe, expect, test } from "bun:test";
import { type CgroupFs, hostCgroupFs } from "./cgroupfs.ts";
import { detectLayout, parseMountinfo, v1Hierarchy } from "./layout.ts";

const fsWith = (files: Record<string, string>): CgroupFs => ({ ...hostCgroupFs, tryRead: (p) => files[p] });

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

describe("detectLayout", () => {
  test("hybrid: v1 controllers plus cgroup2 with few controllers; name=systemd ignored", () => {
    const l = detectLayout(HYBRID, fsWith({ "/sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n" }));
    expect(l.mode).toBe("hybrid");
    expect(l.unified).toEqual({ mount: "/sys/fs/cgroup/unified", controllers: ["hugetlb"] });
    expect(l.v1.map((h) => h.controllers)).toEqual([["cpu"], ["cpuacct"], ["memory"]]);
  });
  test("pure v2", () => {
    const l = detectLayout(
      "25 21 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
      fsWith({ "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n" }),
    );
    expect(l.mode).toBe("v2");
    expect(l.unified?.controllers).toEqual(["cpuset", "cpu", "io", "memory", "pids"]);
    expect(l.v1).toEqual([]);
  });
  test("pure v1 with a joint cpu,cpuacct mount", () => {
    const l = detectLayout(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n36 31 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n",
      fsWith({}),
    );
    expect(l.mode).toBe("v1");
    expect(v1Hierarchy(l, "cpuacct")?.mount).toBe("/sys/fs/cgroup/cpu,cpuacct");
    expect(v1Hierarchy(l, "pids")?.controllers).toEqual(["pids"]);
  });
  test("no cgroup mount is an error", () => {
    expect(() => detectLayout("1 0 0:1 / / rw - ext4 /dev/sda rw\n", fsWith({}))).toThrow(/no cgroup/);
  });
  test("octal escapes in mount points", () => {
    expect(parseMountinfo("1 0 0:1 / /a\\040b rw - cgroup2 cgroup2 rw\n")[0]?.mountPoint).toBe("/a b");
  });
});
