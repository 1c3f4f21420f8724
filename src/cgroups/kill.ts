/**
 * Freezing and killing everything in the container's cgroup.
 *
 * killAll: `cgroup.kill` when the cgroup2 leaf has it (kernel ≥ 5.14, also in
 * hybrid mode: it is a core cgroup2 file, no controller needed); then, until
 * every cgroup.procs is empty: freeze, SIGKILL every listed pid, thaw. Freezing
 * first stops a fork loop from outrunning the kill.
 */
import { tryKill } from "../../ffi/sys.ts";
import { PelagosError } from "../errors.ts";
import type { CgroupDirs } from "./apply.ts";
import type { CgroupFs } from "./cgroupfs.ts";

const SIGKILL = 9;

export type KillDeps = { fs: CgroupFs; signal?: (pid: number, sig: number) => void; sleep?: (ms: number) => Promise<void> };

/** Every cgroup.procs of the container's cgroup, one per hierarchy. */
export function procsFiles(dirs: CgroupDirs): string[] {
  const set = new Set(Object.values(dirs.v1).map((d) => `${d}/cgroup.procs`));
  if (dirs.unified !== undefined) set.add(`${dirs.unified}/cgroup.procs`);
  return [...set];
}

export function listPids(dirs: CgroupDirs, fs: CgroupFs): number[] {
  const pids = new Set<number>();
  for (const f of procsFiles(dirs)) {
    for (const line of (fs.tryRead(f) ?? "").split("\n")) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
  }
  return [...pids];
}

/** The freezer to use: the v1 freezer when mounted (hybrid and v1), else cgroup2's cgroup.freeze. */
function freezer(dirs: CgroupDirs, fs: CgroupFs): { kind: "v1"; file: string } | { kind: "v2"; dir: string } | undefined {
  if (dirs.v1.freezer !== undefined) return { kind: "v1", file: `${dirs.v1.freezer}/freezer.state` };
  if (dirs.unified !== undefined && fs.exists(`${dirs.unified}/cgroup.freeze`)) return { kind: "v2", dir: dirs.unified };
  return undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function setFrozen(dirs: CgroupDirs, frozen: boolean, deps: KillDeps, timeoutMs = 5000): Promise<void> {
  const { fs } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const f = freezer(dirs, fs);
  if (!f) throw new PelagosError("E_CGROUP_UNSUPPORTED", "Cannot freeze the container: no freezer (v1 freezer controller or cgroup.freeze) on this host");
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (f.kind === "v1") {
      // A v1 cgroup can stay in FREEZING while tasks are busy; writing FROZEN again retries.
      fs.write(f.file, frozen ? "FROZEN" : "THAWED");
      if (fs.read(f.file).trim() === (frozen ? "FROZEN" : "THAWED")) return;
    } else {
      fs.write(`${f.dir}/cgroup.freeze`, frozen ? "1" : "0");
      const ev = fs.tryRead(`${f.dir}/cgroup.events`) ?? "";
      if (new RegExp(`^frozen ${frozen ? 1 : 0}$`, "m").test(ev) || !/^frozen /m.test(ev)) return;
    }
    if (Date.now() > deadline) {
      throw new PelagosError("E_CGROUP", `Cannot ${frozen ? "freeze" : "thaw"} the container's cgroup: still changing state after ${timeoutMs} ms`);
    }
    await sleep(delay);
  }
}

export async function killAll(dirs: CgroupDirs, deps: KillDeps, timeoutMs = 10000): Promise<void> {
  const { fs } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const signal = deps.signal ?? ((pid: number, sig: number) => void tryKill(pid, sig));
  const killFile = dirs.unified === undefined ? undefined : `${dirs.unified}/cgroup.kill`;
  if (killFile !== undefined && fs.exists(killFile)) {
    try {
      fs.write(killFile, "1");
    } catch (e) {
      if (fs.exists(killFile)) throw e; // else removed meanwhile: the loop below sees what is left
    }
  }
  let canFreeze = freezer(dirs, fs) !== undefined;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (listPids(dirs, fs).length === 0) return;
    try {
      if (canFreeze) await setFrozen(dirs, true, deps);
      try {
        for (const pid of listPids(dirs, fs)) signal(pid, SIGKILL);
      } finally {
        if (canFreeze) await setFrozen(dirs, false, deps);
      }
    } catch (e) {
      // The container's own pelagos removes the cgroup once its last process exited, and may be
      // doing so right now: with every directory gone this is done; with some gone (the freezer's
      // may be one) the kill goes on without freezing, until what is left is empty.
      const files = procsFiles(dirs);
      if (files.every((f) => !fs.exists(f))) return;
      if (files.every((f) => fs.exists(f))) throw e;
      canFreeze = false;
    }
    await sleep(delay);
    if (Date.now() > deadline) {
      const left = listPids(dirs, fs);
      if (left.length === 0) return;
      throw new PelagosError("E_CGROUP", `Cannot empty the container's cgroup: processes ${left.join(", ")} are still there after ${timeoutMs} ms`);
    }
  }
}
