/**
 * Which cgroup hierarchies the host has, read from /proc/self/mountinfo.
 *
 * - "v2": one cgroup2 mount, no v1 controller mounts.
 * - "hybrid": v1 controller mounts plus a cgroup2 mount (usually
 *   /sys/fs/cgroup/unified) that carries few or no controllers.
 * - "v1": v1 controller mounts only.
 *
 * Named v1 hierarchies without controllers (name=systemd) are recorded but
 * never used: they belong to the init system.
 */
import { PelagosError } from "../errors.ts";
import type { CgroupFs } from "./cgroupfs.ts";

export type CgroupMode = "v2" | "hybrid" | "v1";

/** One mounted v1 hierarchy: its mount point and the controllers it carries (cpu,cpuacct share one on many distros). */
export type V1Hierarchy = { mount: string; controllers: string[] };

export type CgroupLayout = {
  mode: CgroupMode;
  /** The cgroup2 mount and the controllers available in its root (`cgroup.controllers`). */
  unified: { mount: string; controllers: string[] } | undefined;
  /** v1 hierarchies that carry at least one controller. */
  v1: V1Hierarchy[];
};

export const V1_CONTROLLERS = new Set([
  "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event",
  "net_prio", "hugetlb", "pids", "rdma", "misc",
]);

type MountEntry = { mountPoint: string; fsType: string; superOptions: string[] };

/** Parses the lines of a mountinfo file into the fields we need (mount point, fs type, super options). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const mountPoint = left[4];
    const fsType = right[0];
    if (mountPoint === undefined || fsType === undefined) continue;
    out.push({ mountPoint: unescapeOctal(mountPoint), fsType, superOptions: (right[2] ?? "").split(",") });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/**
 * Detects the layout. `fs` reads the cgroup2 root's `cgroup.controllers`;
 * tests pass a mountinfo text and a fake fs rooted in a temp dir.
 */
export function detectLayout(mountinfo: string, fs: CgroupFs): CgroupLayout {
  let unified: CgroupLayout["unified"];
  const v1: V1Hierarchy[] = [];
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fsType === "cgroup2") {
      // The first cgroup2 mount wins; later ones are bind mounts of the same hierarchy.
      if (unified !== undefined) continue;
      const text = fs.tryRead(`${m.mountPoint}/cgroup.controllers`) ?? "";
      unified = { mount: m.mountPoint, controllers: text.split(/\s+/).filter((c) => c !== "") };
    } else if (m.fsType === "cgroup") {
      const controllers = m.superOptions.filter((o) => V1_CONTROLLERS.has(o));
      if (controllers.length === 0) continue;
      if (v1.some((h) => h.controllers.join() === controllers.join())) continue;
      v1.push({ mount: m.mountPoint, controllers });
    }
  }
  if (unified === undefined && v1.length === 0) {
    throw new PelagosError("E_CGROUP", "Cannot find a cgroup hierarchy: no cgroup or cgroup2 mount in mountinfo");
  }
  const mode: CgroupMode = v1.length === 0 ? "v2" : unified === undefined ? "v1" : "hybrid";
  return { mode, unified, v1 };
}

/** The v1 hierarchy carrying `controller`, if mounted. */
export function v1Hierarchy(layout: CgroupLayout, controller: string): V1Hierarchy | undefined {
  return layout.v1.find((h) => h.controllers.includes(controller));
}
