/**
 * Creates the container's cgroup directories in every hierarchy and prepares
 * them: enables controllers in the cgroup2 parents pelagos owns, copies
 * cpuset.cpus/mems into new v1 cpuset dirs (an empty cpuset refuses tasks).
 * Every directory created is recorded (in creation order) for rollback and
 * destroy.
 */
import { PelagosError } from "../errors.ts";
import type { CgroupDirs } from "./apply.ts";
import type { CgroupFs } from "./cgroupfs.ts";
import type { CgroupLayout } from "./layout.ts";
import { DEFAULT_PARENT, type Placement } from "./placement.ts";

/** Domain controllers pelagos enables in the cgroup2 parents it owns. */
const V2_WANTED = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"];

/** `created`: dirs below the shared parent, in creation order (destroy removes exactly these). */
export type SetupResult = { dirs: CgroupDirs; created: string[] };

/** mkdir of every component, recording what it made. Fails if the leaf exists. */
function makePath(root: string, placement: Placement, fs: CgroupFs, madeNow: string[], owned: string[]): string {
  const parts = placement.rel.split("/");
  // Usually every parent exists (pelagos/ is kept): one mkdir, no EEXIST per parent.
  const leaf = `${root}/${placement.rel}`;
  if (parts.length > 1 && fs.exists(`${root}/${parts.slice(0, -1).join("/")}`)) {
    if (!fs.mkdir(leaf)) throw new PelagosError("E_CGROUP_EXISTS", `Cannot create cgroup "${leaf}": it already exists (another container, or one not cleaned up)`);
    madeNow.push(leaf);
    if (parts.length - 1 >= placement.parentDepth) owned.push(leaf);
    return leaf;
  }
  let dir = root;
  parts.forEach((p, i) => {
    dir = `${dir}/${p}`;
    const made = fs.mkdir(dir);
    if (made) {
      madeNow.push(dir);
      if (i >= placement.parentDepth) owned.push(dir);
    } else if (i === parts.length - 1) {
      throw new PelagosError("E_CGROUP_EXISTS", `Cannot create cgroup "${dir}": it already exists (another container, or one not cleaned up)`);
    }
  });
  return dir;
}

/** Parents pelagos may change: ones it created now, and its own default parent at the hierarchy root. */
function ownedParents(root: string, placement: Placement, created: string[]): string[] {
  const parts = placement.rel.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const dir = `${root}/${parts.slice(0, i).join("/")}`;
    if (created.includes(dir) || (i === 1 && parts[0] === DEFAULT_PARENT)) out.push(dir);
  }
  return out;
}

function enableV2Controllers(root: string, placement: Placement, fs: CgroupFs, created: string[]): void {
  for (const dir of ownedParents(root, placement, created)) {
    const available = (fs.tryRead(`${dir}/cgroup.controllers`) ?? "").split(/\s+/);
    const enabled = (fs.tryRead(`${dir}/cgroup.subtree_control`) ?? "").split(/\s+/);
    for (const c of V2_WANTED) {
      if (!available.includes(c) || enabled.includes(c)) continue;
      try {
        fs.write(`${dir}/cgroup.subtree_control`, `+${c}`);
      } catch {
        // A controller that cannot be enabled (e.g. cpu with RT tasks in the subtree) is reported
        // later, and only if a limit needs it.
      }
    }
  }
}

function copyCpuset(root: string, rel: string, fs: CgroupFs, madeNow: string[]): void {
  const parts = rel.split("/");
  let parent = root;
  for (const [i, p] of parts.entries()) {
    const dir = `${parent}/${p}`;
    if (madeNow.includes(dir) || (i === 0 && p === DEFAULT_PARENT)) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        const mine = fs.tryRead(`${dir}/${f}`);
        if (mine !== undefined && mine.trim() === "") fs.write(`${dir}/${f}`, (fs.read(`${parent}/${f}`).trim() || "\n"));
      }
    }
    parent = dir;
  }
}

/**
 * Creates the dirs. On failure removes what it created and rethrows, so the
 * caller only has to roll back after a successful return.
 */
export function setupDirs(layout: CgroupLayout, placement: Placement, fs: CgroupFs): SetupResult {
  const created: string[] = [];
  const madeNow: string[] = [];
  const dirs: CgroupDirs = { unified: undefined, unifiedControllers: [], v1: {} };
  try {
    for (const h of layout.v1) {
      const dir = makePath(h.mount, placement, fs, madeNow, created);
      if (h.controllers.includes("cpuset")) copyCpuset(h.mount, placement.rel, fs, madeNow);
      for (const c of h.controllers) dirs.v1[c] = dir;
    }
    if (layout.unified) {
      const root = layout.unified.mount;
      const dir = makePath(root, placement, fs, madeNow, created);
      enableV2Controllers(root, placement, fs, madeNow);
      dirs.unified = dir;
      dirs.unifiedControllers = (fs.tryRead(`${dir}/cgroup.controllers`) ?? "").split(/\s+/).filter((c) => c !== "");
    }
  } catch (e) {
    removeDirs(created, fs);
    throw e;
  }
  return { dirs, created };
}

/** rmdir in reverse creation order (children first). Errors are collected, not thrown early. */
export function removeDirs(created: string[], fs: CgroupFs): string[] {
  const errors: string[] = [];
  for (const dir of [...created].reverse()) {
    try {
      fs.rmdir(dir);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return errors;
}
