/**
 * A fake cgroupfs in a temp dir for unit tests: mkdir fills a new cgroup with
 * the interface files of its hierarchy (as the kernel does), writes are logged,
 * and the freezer files behave like the kernel's (state reads back at once).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { type CgroupFs, hostCgroupFs } from "../cgroupfs.ts";
import { type CgroupLayout, detectLayout } from "../layout.ts";

const V2_FILES = [
  "cgroup.controllers", "cgroup.subtree_control", "cgroup.procs", "cgroup.freeze", "cgroup.kill", "cgroup.events",
  "memory.max", "memory.high", "memory.low", "memory.swap.max", "memory.oom.group", "memory.events", "memory.current", "memory.peak",
  "cpu.max", "cpu.weight", "cpu.idle", "cpu.stat", "cpuset.cpus", "cpuset.mems", "pids.max", "pids.current",
  "io.weight", "io.max", "io.stat", "hugetlb.2MB.max", "hugetlb.1GB.max",
];

const V1_FILES: Record<string, string[]> = {
  memory: [
    "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.kmem.limit_in_bytes",
    "memory.swappiness", "memory.oom_control", "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt",
  ],
  cpu: ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.stat", "cpu.idle"],
  cpuacct: ["cpuacct.usage", "cpuacct.stat"],
  cpuset: ["cpuset.cpus", "cpuset.mems"],
  pids: ["pids.max", "pids.current"],
  blkio: ["blkio.weight", "blkio.weight_device", "blkio.leaf_weight", "blkio.leaf_weight_device", "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
    "blkio.throttle.io_service_bytes_recursive"],
  devices: ["devices.allow", "devices.deny", "devices.list"],
  freezer: ["freezer.state"],
  hugetlb: ["hugetlb.2MB.limit_in_bytes"],
};

export type FakeCgroupfs = {
  root: string;
  fs: CgroupFs;
  layout: CgroupLayout;
  mountinfo: string;
  /** every write, in order: [path relative to root, value] */
  writes: [string, string][];
  /** write a file as the kernel would (content only, not logged) */
  set(rel: string, value: string): void;
  cleanup(): void;
};

export type FakeOptions = {
  mode: "v2" | "hybrid" | "v1";
  /** v2 root controllers (cgroup.controllers and subtree_control of the root) */
  v2Controllers?: string[];
  /** controllers enabled in the v2 root's subtree_control; default all on v2, none on hybrid (as on real hosts) */
  v2RootEnabled?: string[];
  /** v1 hierarchies; default cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids */
  v1?: string[][];
  /** files a new cgroup does NOT get (to simulate a missing kernel feature) */
  without?: string[];
};

export function fakeCgroupfs(opts: FakeOptions): FakeCgroupfs {
  const root = mkdtempSync(`${tmpdir()}/pelagos-fakecg-`);
  const writes: [string, string][] = [];
  const without = new Set(opts.without ?? []);
  const v1 = opts.mode === "v2" ? [] : (opts.v1 ?? [["cpu"], ["cpuacct"], ["cpuset"], ["memory"], ["devices"], ["freezer"], ["blkio"], ["pids"]]);
  const unifiedMount = opts.mode === "v2" ? `${root}/sys/fs/cgroup` : opts.mode === "hybrid" ? `${root}/sys/fs/cgroup/unified` : undefined;
  const v2Controllers = opts.v2Controllers ?? (opts.mode === "v2" ? ["cpuset", "cpu", "io", "memory", "hugetlb", "pids"] : []);
  const lines: string[] = [];
  let n = 30;
  const put = (p: string, v: string) => writeFileSync(p, v);
  const populate = (dir: string, files: string[]) => {
    for (const f of files) if (!without.has(f)) put(`${dir}/${f}`, "");
  };
  for (const ctrls of v1) {
    const mount = `${root}/sys/fs/cgroup/${ctrls.join(",")}`;
    mkdirSync(mount, { recursive: true });
    for (const c of ctrls) populate(mount, V1_FILES[c] ?? []);
    put(`${mount}/cgroup.procs`, "");
    if (ctrls.includes("cpuset")) {
      put(`${mount}/cpuset.cpus`, "0-1\n");
      put(`${mount}/cpuset.mems`, "0\n");
    }
    lines.push(`${n++} 23 0:${n} / ${mount} rw,relatime - cgroup cgroup rw,${ctrls.join(",")}`);
  }
  if (unifiedMount) {
    mkdirSync(unifiedMount, { recursive: true });
    put(`${unifiedMount}/cgroup.controllers`, `${v2Controllers.join(" ")}\n`);
    const enabled = opts.v2RootEnabled ?? (opts.mode === "v2" ? v2Controllers : []);
    put(`${unifiedMount}/cgroup.subtree_control`, `${enabled.join(" ")}\n`);
    put(`${unifiedMount}/cgroup.procs`, "");
    lines.push(`${n++} 23 0:${n} / ${unifiedMount} rw,relatime - cgroup2 cgroup2 rw`);
  }
  lines.push(`${n++} 23 0:${n} / /proc rw - proc proc rw`);
  const mountinfo = `${lines.join("\n")}\n`;
  const rel = (p: string) => p.slice(root.length);
  // The kernel computes a child's cgroup.controllers from its parent's subtree_control at read time.
  const controllersOf = (path: string): string | undefined => {
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (!unifiedMount || dir === unifiedMount || !dir.startsWith(`${unifiedMount}/`)) return undefined;
    return hostCgroupFs.tryRead(`${dir.slice(0, dir.lastIndexOf("/"))}/cgroup.subtree_control`);
  };
  const inner: CgroupFs = {
    ...hostCgroupFs,
    read(path) {
      return path.endsWith("/cgroup.controllers") ? (controllersOf(path) ?? hostCgroupFs.read(path)) : hostCgroupFs.read(path);
    },
    tryRead(path) {
      return path.endsWith("/cgroup.controllers") ? (controllersOf(path) ?? hostCgroupFs.tryRead(path)) : hostCgroupFs.tryRead(path);
    },
    rmdir(path) {
      // cgroupfs removes a cgroup with its interface files; a temp dir needs rm -r.
      rmSync(path, { recursive: true, force: true });
    },
    mkdir(path) {
      const made = hostCgroupFs.mkdir(path);
      if (!made) return made;
      if (unifiedMount && path.startsWith(`${unifiedMount}/`)) {
        populate(path, V2_FILES);
        put(`${path}/cgroup.subtree_control`, "");
        put(`${path}/cgroup.events`, "populated 0\nfrozen 0\n");
      } else {
        const h = v1.find((c) => path.startsWith(`${root}/sys/fs/cgroup/${c.join(",")}/`));
        for (const c of h ?? []) populate(path, V1_FILES[c] ?? []);
        put(`${path}/cgroup.procs`, "");
        if (h?.includes("freezer")) put(`${path}/freezer.state`, "THAWED\n");
      }
      return made;
    },
    writeEach(path, values) {
      for (const v of values) inner.write(path, v);
    },
    write(path, value) {
      writes.push([rel(path), value]);
      if (path.endsWith("/cgroup.subtree_control")) {
        // Enabling a controller appends it, as "+memory" does in the kernel.
        const cur = hostCgroupFs.read(path).split(/\s+/).filter((s) => s !== "");
        const c = value.replace(/^\+/, "");
        hostCgroupFs.write(path, `${[...new Set([...cur, c])].join(" ")}\n`);
        return;
      }
      hostCgroupFs.write(path, value); // ENOENT for a missing file, like the kernel
      put(path, value); // a regular file must also be truncated
      if (path.endsWith("/cgroup.freeze")) put(path.replace(/cgroup\.freeze$/, "cgroup.events"), `populated 0\nfrozen ${value}\n`);
    },
  };
  // A path outside the fake tree would reach the host's real cgroupfs: refuse it.
  const inside = (path: unknown) => {
    if (typeof path === "string" && path.startsWith("/") && !path.startsWith(`${root}/`))
      throw new Error(`fake cgroupfs: ${path} is outside ${root} (a test passed a host path)`);
  };
  const fs = Object.fromEntries(
    Object.entries(inner).map(([k, f]) => [k, (...args: unknown[]) => (inside(args[0]), (f as (...a: unknown[]) => unknown)(...args))]),
  ) as CgroupFs;
  const layout = detectLayout(mountinfo, fs);
  return {
    root, fs, layout, mountinfo, writes,
    set: (p, v) => put(`${root}${p}`, v),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
