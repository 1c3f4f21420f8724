/**
 * Detached containers without a daemon (`run -d`, `start`): the trampoline
 * stays as the container's supervisor (OP_SUPERVISE in trampoline.c) and
 * pelagos exits.
 *
 * Hand-over, so that a SIGKILL of pelagos at any point leaves either nothing
 * running or a recorded, supervised container:
 *   1  state.json {status: created, pid 0, watcher: this pelagos}
 *   2  spawn; the trampoline T has a parent-death SIGKILL on us, the init C on T
 *   3  execve done → state.json {created, pid: C, watcher: T}
 *   4  "go" on the control socket → T clears its parent-death signal and answers
 *   5  state.json {running}; print the name
 * Killed before 4: T dies with us (or sees the control socket close and kills
 * C); the record says created with nothing alive, which `cleanup` removes.
 * Killed after 4: T owns C; the record names both. The container's cgroup is
 * created (and recorded) before the spawn; T removes it after C exited.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import * as sys from "../../ffi/sys.ts";
import type { Context } from "../cli/context.ts";
import { PelagosError, SpawnError, Undo } from "../errors.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import { processStartTime } from "../state/identity.ts";
import { containerDir } from "../state/paths.ts";
import { writeContainerState, type ContainerState } from "./container-state.ts";
import { startInit, type UsernsInit } from "./start-init.ts";
import { createRecordedCgroup } from "./cgroup-claim.ts";
import type { CgroupManager } from "../cgroups/manager.ts";
import { allocateAutoRanges } from "./security-options.ts";

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 3;

export type DetachRequest = {
  config: OciConfig;
  state: ContainerState;
  /** keep stdin open: the container reads a fifo `stdin` in its directory (`attach -i` writes to it) */
  interactive: boolean;
};

/** Starts the container under a supervisor; returns once it runs and is recorded. */
export async function launchDetached(ctx: Context, req: DetachRequest): Promise<ContainerState> {
  const { state } = req;
  const dir = containerDir(ctx.root, state.name);
  const fds: number[] = [];
  const open = (fd: number) => (fds.push(fd), fd);
  const closeAll = () => {
    for (const fd of fds.splice(0)) sys.close(fd);
  };
  const undo = new Undo();
  let cgroup: CgroupManager | undefined;
  try {
    const [outR, outW] = sys.pipe().map(open) as [number, number];
    const [errR, errW] = sys.pipe().map(open) as [number, number];
    const [ours, theirs] = sys.socketpair().map(open) as [number, number];
    const dirFd = open(sys.open(dir, sys.O_PATH | sys.O_DIRECTORY | sys.O_CLOEXEC));
    let stdin: number;
    if (req.interactive) {
      rmSync(`${dir}/stdin`, { force: true });
      sys.mknodFifo(`${dir}/stdin`, 0o600);
      // read-write: the container never sees end of file between two attach sessions
      stdin = open(sys.open(`${dir}/stdin`, sys.O_RDWR | sys.O_CLOEXEC));
    } else stdin = open(sys.open("/dev/null", sys.O_RDONLY | sys.O_CLOEXEC));
    // recorded before anything runs in it: `cleanup` destroys the cgroup of a start that died
    cgroup = await createRecordedCgroup(ctx.root, state, req.config, undo);
    const init = await startInit({
      config: req.config, rootfs: state.rootfs, mode: "run", stdio: [stdin, outW, errW], preserveFds: 0, log: ctx.log,
      init: state.init, overlay: state.launch?.overlay, userns: usernsOf(state), cgroup, cacheDir: `${ctx.root}/.seccomp`,
      supervisor: {
        out: outR, err: errR, dir: dirFd, control: theirs, stdin: req.interactive ? stdin : undefined,
        maxBytes: state.log_max_bytes ?? DEFAULT_LOG_MAX_BYTES, maxFiles: state.log_max_files ?? DEFAULT_LOG_MAX_FILES,
        cgroupDirs: cgroup.state().created, oomFile: oomCounter(cgroup),
      },
      hookState: (pid, status) => ({ ociVersion: "1.2.0", id: state.name, status, pid, bundle: dir }),
      onCreated: () => {},
    });
    cgroup.closeDirfd();
    undo.push(`stop container "${state.name}"`, () => {
      sys.tryKill(init.pid, 9);
    });
    init.trampoline.unref();
    const t = init.trampoline.pid;
    Object.assign(state, {
      pid: init.pid, pid_start_time: init.startTime, watcher_pid: t, watcher_start_time: processStartTime(t),
      clone_flags: init.cloneFlags, status: "created" as const,
    });
    writeContainerState(ctx.root, state);
    sys.writeAll(ours, new Uint8Array([1]));
    const ack = new Uint8Array(1);
    if (!sys.pollIn(ours, 10_000) || sys.read(ours, ack) !== 1)
      throw new SpawnError("E_SPAWN", `The supervisor of container "${state.name}" did not take it over`);
    undo.commit();
    state.status = "running";
    writeContainerState(ctx.root, state);
    return state;
  } catch (e) {
    await undo.rollback(e);
    throw e;
  } finally {
    cgroup?.closeDirfd();
    closeAll();
  }
}

/** The user namespace pelagos sets up for this container, from its record (`--userns`). */
function usernsOf(s: ContainerState): UsernsInit | undefined {
  const l = s.launch;
  if (!l?.idmap_rootfs) return undefined;
  const auto = l.userns_auto;
  return { idmapRootfs: true, allocate: auto === undefined ? undefined : (c) => allocateAutoRanges(c, auto) };
}

/** Where the kernel counts OOM kills for this cgroup (as cgroups/stats.ts readOomKilled reads it). */
function oomCounter(m: CgroupManager): string | undefined {
  if (m.dirs.v1.memory !== undefined) return `${m.dirs.v1.memory}/memory.oom_control`;
  if (m.dirs.unified !== undefined && m.dirs.unifiedControllers.includes("memory")) return `${m.dirs.unified}/memory.events`;
  return undefined;
}

/** Removes a container directory: only ever <root>/containers/<validated name>. */
export function removeContainerDir(root: string, name: string): void {
  if (!name || name.includes("/") || name.startsWith(".")) throw new PelagosError("E_INTERNAL", `Refusing to remove container "${name}"`);
  const dir = containerDir(root, name);
  // a writer that got in between the listing and the rmdir (force hides that ENOTEMPTY): again
  for (let i = 0; i < 3 && existsSync(dir); i++) rmSync(dir, { recursive: true, force: true });
  if (existsSync(dir)) throw new PelagosError("E_STATE", `Cannot remove "${dir}": something keeps writing to it`);
}

export function ensureContainersDir(root: string): void {
  mkdirSync(`${root}/containers`, { recursive: true, mode: 0o711 });
}
