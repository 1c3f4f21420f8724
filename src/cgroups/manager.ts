/**
 * The cgroup manager of one container: create (dirs + limits, rolled back on
 * failure), join, update, freeze/thaw, stats, killAll, oomKilled, destroy.
 * State is a plain object (`state()`), so `pelagos rm` in another process can
 * `CgroupManager.fromState()` and destroy exactly what create made.
 */
import { selfMountinfo } from "./mountinfo.ts";
import { PelagosError } from "../errors.ts";
import { applyWrites, type CgroupDirs, resolveWrites } from "./apply.ts";
import { type CgroupFs, hostCgroupFs } from "./cgroupfs.ts";
import { allowsEverything, deviceFilterProgram } from "./device-filter.ts";
import { killAll, listPids, procsFiles, setFrozen } from "./kill.ts";
import { type CgroupLayout, type CgroupMode, detectLayout } from "./layout.ts";
import { type PlacementInput, resolvePlacement } from "./placement.ts";
import type { LinuxResources } from "./resources.ts";
import { removeDirs, setupDirs } from "./setup.ts";
import { type CgroupStats, readOomKilled, readStats } from "./stats.ts";

/**
 * Replaces the device programs attached to a cgroup2 dir with `insns`, or detaches them all
 * when `insns` is undefined (ffi/bpf.ts on a real host; a recorder in tests).
 */
export type DeviceProgramInstaller = (cgroupFd: number, insns: Uint8Array | undefined) => void | Promise<void>;

export type CgroupDeps = {
  fs?: CgroupFs;
  /** Defaults to detectLayout(/proc/self/mountinfo). */
  layout?: CgroupLayout;
  installDeviceProgram?: DeviceProgramInstaller;
};

export type CreateOptions = PlacementInput & {
  resources?: LinuxResources;
  /** v2: memory.oom.group=1 when a memory limit is set, so an OOM kills the whole container (default true). */
  oomGroup?: boolean;
};

export type CgroupState = { mode: CgroupMode; rel: string; dirs: CgroupDirs; created: string[]; oomGroup: boolean };

export function hostLayout(fs: CgroupFs = hostCgroupFs): CgroupLayout {
  return detectLayout(selfMountinfo(), fs);
}

async function defaultInstaller(cgroupFd: number, insns: Uint8Array | undefined): Promise<void> {
  const bpf = await import("../../ffi/bpf.ts");
  const old = bpf.queryDevicePrograms(cgroupFd);
  // Attach the new program before detaching the old ones (BPF_F_ALLOW_MULTI): no window without rules.
  if (insns !== undefined) {
    const prog = bpf.loadDeviceProgram(insns);
    try {
      bpf.attachDeviceProgram(cgroupFd, prog);
    } finally {
      bpf.closeFd(prog);
    }
  }
  for (const id of old) {
    const fd = bpf.programFdById(id);
    try {
      bpf.detachDeviceProgram(cgroupFd, fd);
    } finally {
      bpf.closeFd(fd);
    }
  }
}

export class CgroupManager {
  /** O_DIRECTORY fd of the cgroup2 leaf, for clone3(CLONE_INTO_CGROUP); undefined on pure v1. Closed by destroy()/closeDirfd(). */
  dirfd: number | undefined;
  readonly #fs: CgroupFs;
  readonly #install: DeviceProgramInstaller | undefined;

  private constructor(
    readonly stateData: CgroupState,
    deps: CgroupDeps,
  ) {
    this.#fs = deps.fs ?? hostCgroupFs;
    this.#install = deps.installDeviceProgram;
  }

  /** Creates the cgroup and applies `resources`. Nothing is left behind when it throws. */
  static async create(opts: CreateOptions, deps: CgroupDeps = {}): Promise<CgroupManager> {
    const fs = deps.fs ?? hostCgroupFs;
    const layout = deps.layout ?? hostLayout(fs);
    const placement = resolvePlacement(opts);
    const { dirs, created } = setupDirs(layout, placement, fs);
    const m = new CgroupManager({ mode: layout.mode, rel: placement.rel, dirs, created, oomGroup: opts.oomGroup ?? true }, deps);
    try {
      if (dirs.unified !== undefined) m.dirfd = fs.openDir(dirs.unified);
      if (opts.resources) await m.update(opts.resources);
    } catch (e) {
      m.closeDirfd();
      removeDirs(created, fs);
      throw e;
    }
    return m;
  }

  static fromState(state: CgroupState, deps: CgroupDeps = {}): CgroupManager {
    return new CgroupManager(state, deps);
  }

  state(): CgroupState {
    return structuredClone(this.stateData);
  }

  get dirs(): CgroupDirs {
    return this.stateData.dirs;
  }

  /**
   * One O_WRONLY descriptor of `tasks` per v1 hierarchy, for a single-threaded child to write "0"
   * into (itself). Migrating one thread by "0" skips the kernel's global threadgroup lock, whose
   * write side waits for an RCU grace period (6-13 ms here) on every cgroup.procs write; and the
   * opener's credentials are checked, so a child in a new user namespace may write it too.
   */
  openV1Tasks(): { fd: number; name: string }[] {
    const byDir = new Map<string, string[]>();
    for (const [controller, dir] of Object.entries(this.dirs.v1)) byDir.set(dir, [...(byDir.get(dir) ?? []), controller]);
    const out: { fd: number; name: string }[] = [];
    try {
      for (const [dir, names] of byDir) out.push({ fd: this.#fs.openWrite(`${dir}/tasks`), name: names.join(",") });
    } catch (e) {
      for (const t of out) this.#fs.closeFd(t.fd);
      throw e;
    }
    return out;
  }

  /**
   * Moves another process into the container's cgroups (every cgroup.procs). A container's own
   * processes never need it: they are cloned into the cgroup2 leaf and join v1 themselves (openV1Tasks).
   */
  join(pid: number): void {
    for (const f of procsFiles(this.dirs)) this.#fs.write(f, String(pid));
  }

  async update(resources: LinuxResources): Promise<void> {
    const writes = resolveWrites(resources, this.dirs, this.#fs, { oomGroup: this.stateData.oomGroup });
    const devices = resources.devices;
    const useBpf = devices !== undefined && this.dirs.v1.devices === undefined;
    if (useBpf && this.dirs.unified === undefined) {
      throw new PelagosError("E_CGROUP_UNSUPPORTED", "Cannot enforce device rules: no devices controller and no cgroup v2 on this host");
    }
    // `devices: []` changes nothing (as on v1, where it writes nothing); a lone allow-all removes the program.
    const bpf = useBpf && devices.length > 0;
    const insns = !bpf || (devices.length === 1 && allowsEverything(devices)) ? undefined : deviceFilterProgram(devices);
    applyWrites(writes, this.#fs);
    if (bpf) {
      const fd = this.dirfd ?? this.#fs.openDir(this.dirs.unified!);
      try {
        await (this.#install ?? defaultInstaller)(fd, insns);
      } finally {
        if (fd !== this.dirfd) this.#fs.closeFd(fd);
      }
    }
  }

  freeze(): Promise<void> {
    return setFrozen(this.dirs, true, { fs: this.#fs });
  }

  thaw(): Promise<void> {
    return setFrozen(this.dirs, false, { fs: this.#fs });
  }

  stats(): CgroupStats {
    return readStats(this.dirs, this.#fs);
  }

  pids(): number[] {
    return listPids(this.dirs, this.#fs);
  }

  /** The dirs not removed yet (a destroy that was interrupted, or a partial first attempt). */
  #existingDirs(): CgroupDirs {
    const d = this.dirs;
    const v1 = Object.fromEntries(Object.entries(d.v1).filter(([, dir]) => this.#fs.exists(dir)));
    return { ...d, v1, unified: d.unified !== undefined && this.#fs.exists(d.unified) ? d.unified : undefined };
  }

  killAll(timeoutMs?: number): Promise<void> {
    return killAll(this.dirs, { fs: this.#fs }, timeoutMs);
  }

  oomKilled(): boolean {
    return readOomKilled(this.dirs, this.#fs);
  }

  closeDirfd(): void {
    if (this.dirfd !== undefined) this.#fs.closeFd(this.dirfd);
    this.dirfd = undefined;
  }

  /** Kills what is left, then removes the directories create() made (never a parent it did not create). */
  async destroy(): Promise<void> {
    this.closeDirfd();
    // Usually the cgroup is empty by now (the init died, and its pid namespace with it): rmdir
    // refuses a cgroup with tasks (EBUSY), so trying first loses nothing and saves reading every
    // cgroup.procs. Whatever is left is emptied, through the dirs that are still there.
    if (removeDirs(this.stateData.created, this.#fs).length === 0) return;
    await killAll(this.#existingDirs(), { fs: this.#fs });
    let errors: string[] = [];
    // rmdir can briefly fail with EBUSY after the last task exited (cgroup2 releases dying tasks asynchronously).
    for (let attempt = 0, delay = 2; attempt < 8; attempt++, delay *= 2) {
      errors = removeDirs(this.stateData.created.filter((d) => this.#fs.exists(d)), this.#fs);
      if (errors.length === 0) return;
      await new Promise((r) => setTimeout(r, delay));
    }
    throw new PelagosError("E_CGROUP", `Cannot remove the container's cgroup: ${errors.join("; ")}`);
  }
}
