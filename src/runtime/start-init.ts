/**
 * Starts a container's init from a validated config: plan, spawn, answer the
 * sync points (user namespace maps, runtime hooks, terminal, created). Shared
 * by OCI create/run and `pelagos run`. Undo steps are recorded by the caller.
 */
import type { Subprocess } from "bun";
import * as K from "../../ffi/consts.ts";
import * as sys from "../../ffi/sys.ts";
import { PelagosError } from "../errors.ts";
import { runHooks } from "../hooks/index.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import type { SuperviseFds } from "../plan/launch.ts";
import { Ready } from "../plan/ready.ts";
import { launchPlan } from "./plan-cache.ts";
import { processStartTime } from "../state/identity.ts";
import { spawnContainer, type StdioFd } from "../spawn/spawn.ts";
import { copyWindowSize } from "./console.ts";
import { hostFacts } from "./host-facts.ts";
import { compileSeccompFor } from "./seccomp.ts";
import { idmappedRootfs, writeIdMaps } from "./userns.ts";
import { passCgroupFds, type CgroupPlacement } from "./cgroup-setup.ts";
import { mark } from "../log/timing.ts";

export type InitOptions = {
  config: OciConfig;
  rootfs: string;
  mode: "create" | "run";
  overlay?: { lower: string[]; upper: string; work: string };
  execFifo?: string;
  /** OCI --console-socket path: the pty master is sent there */
  consoleSocket?: string;
  /** foreground terminal: the pty master comes back to us */
  ownTerminal?: boolean;
  stdio: [StdioFd, StdioFd, StdioFd];
  preserveFds: number;
  /** the state hooks see on stdin */
  hookState: (pid: number, status: string) => object;
  /** called when the init reached "created" (write state, pid file) */
  onCreated: (pid: number, startTime: number, cloneFlags: number) => void | Promise<void>;
  /** the container's cgroup (cgroup-setup.ts): cloned into, and joined on v1 before any setup runs */
  cgroup?: CgroupPlacement;
  log?: { warn: (m: string) => void; debug: (m: string) => void };
  /** where compiled seccomp filters are cached (under the runtime root) */
  cacheDir?: string;
  /** where launch plans are cached (under the runtime root; plan-cache.ts) */
  planCache?: string;
  /** `run --userns`: see UsernsInit */
  userns?: UsernsInit;
  /** detached: our fds for the supervisor (out/err pipe read ends, state dir, control socket) */
  supervisor?: { out: number; err: number; dir: number; control: number; maxBytes: number; maxFiles: number; stdin?: number; cgroupDirs?: string[]; oomFile?: string };
  init?: boolean;
};

/**
 * A user namespace set up by pelagos (`run --userns`), not by the config's
 * author: `allocate` may choose the maps into the config just before they are
 * written (returns the release of what it locked); `idmapRootfs` shows the
 * root filesystem through an idmapped mount of the container's namespace.
 */
export type UsernsInit = { idmapRootfs: boolean; allocate?: (config: OciConfig) => Promise<() => void> };

export type Init = {
  pid: number;
  startTime: number;
  trampoline: Subprocess;
  /** the pty master (ownTerminal) */
  master?: number;
  cloneFlags: number;
};

export async function startInit(o: InitOptions): Promise<Init> {
  const host = hostFacts();
  const cfg = o.config;
  const hooks = cfg.hooks ?? {};
  const runtimeHooks = Boolean(hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length);
  const extraFds: number[] = [];
  let consoleOurs: number | undefined;
  let supervisorConsole: number | undefined;
  let consoleFd: number | undefined;
  const toClose: number[] = [];
  let startTime = 0;
  let master: number | undefined;
  // Every fd opened from here on is closed on the way out, also when planning fails.
  try {
    if (cfg.process?.terminal) {
      if (o.consoleSocket) {
        const s = sys.connectUnix(o.consoleSocket);
        toClose.push(s);
        extraFds.push(s);
      } else if (o.ownTerminal) {
        const [ours, theirs] = sys.socketpair();
        consoleOurs = ours;
        toClose.push(theirs);
        extraFds.push(theirs);
      } else if (o.supervisor) {
        // detached: the init sends the master to its supervisor, which logs it and feeds it stdin
        const [a, b] = sys.socketpair();
        toClose.push(a, b);
        extraFds.push(a);
        supervisorConsole = b;
      } else throw new PelagosError("E_USAGE", "process.terminal is set: use --console-socket", { exitCode: 1 });
      consoleFd = 5;
    }
    const cgroup = passCgroupFds(o.cgroup, extraFds, toClose);
    let execFifoFd: number | undefined;
    if (o.execFifo !== undefined) {
      const fd = sys.open(o.execFifo, sys.O_RDWR | sys.O_CLOEXEC);
      toClose.push(fd);
      execFifoFd = 5 + extraFds.push(fd) - 1;
    }
    const firstPreservedFd = 5 + extraFds.length;
    for (let i = 0; i < o.preserveFds; i++) extraFds.push(3 + i);
    let supervise: SuperviseFds | undefined;
    if (o.supervisor) {
      const v = o.supervisor;
      const at = 5 + extraFds.length;
      extraFds.push(v.out, v.err, v.dir, v.control);
      supervise = { out: at, err: at + 1, dir: at + 2, control: at + 3, maxBytes: v.maxBytes, maxFiles: v.maxFiles, cgroupDirs: v.cgroupDirs, oomFile: v.oomFile };
      if (supervisorConsole !== undefined) {
        supervise.console = 5 + extraFds.length;
        extraFds.push(supervisorConsole);
        if (v.stdin !== undefined) {
          supervise.stdin = 5 + extraFds.length;
          extraFds.push(v.stdin);
        }
      }
    }
    mark("init: fds ready");
    const seccomp = await compileSeccompFor(cfg, host, o.log, o.cacheDir);
    mark("init: seccomp ready");
    const launch = await launchPlan(o.planCache, {
      config: cfg, rootfs: o.rootfs, mode: o.mode, execFifoFd, consoleFd, overlay: o.overlay,
      preserveFds: o.preserveFds, firstPreservedFd, seccomp, runtimeHooks, host, idmapRootfs: o.userns?.idmapRootfs,
      cgroup,
      supervise, init: o.init,
    });
    mark("init: planned");
    o.log?.debug(`plan: ${launch.steps.length} steps, ${launch.plan.length} bytes, namespaces 0x${launch.cloneFlags.toString(16)}`);
    const spawned = await spawnContainer({
      launch,
      stdio: o.stdio,
      extraFds,
      onReady: async (kind, pid) => {
        if (kind === Ready.USERNS) {
          const release = await o.userns?.allocate?.(cfg);
          try {
            writeIdMaps(pid, cfg);
          } finally {
            release?.();
          }
          if (o.userns?.idmapRootfs) return { fd: idmappedRootfs(pid, o.rootfs) };
        } else if (kind === Ready.HOOKS) {
          const state = o.hookState(pid, "creating");
          await runHooks("prestart", hooks.prestart, state);
          await runHooks("createRuntime", hooks.createRuntime, state);
          await runHooks("createContainer", hooks.createContainer, state, {
            pid, host, namespaces: launch.cloneFlags & ~K.CLONE_NEWUSER & ~K.CLONE_NEWTIME,
          });
        } else if (kind === Ready.CONSOLE) {
          if (consoleOurs !== undefined) {
            master = sys.recvFd(consoleOurs);
            copyWindowSize(master);
          }
        } else if (kind === Ready.CREATED) {
          mark("init: created");
          startTime = processStartTime(pid) ?? 0;
          await o.onCreated(pid, startTime, launch.cloneFlags);
          if (hooks.startContainer?.length) return Buffer.from(JSON.stringify(o.hookState(pid, "created")));
        }
      },
    });
    if (spawned.sync !== undefined) sys.close(spawned.sync);
    return { pid: spawned.pid, startTime, trampoline: spawned.trampoline, master, cloneFlags: launch.cloneFlags };
  } catch (e) {
    if (master !== undefined) sys.close(master);
    throw e;
  } finally {
    for (const fd of toClose) sys.close(fd);
    if (consoleOurs !== undefined) sys.close(consoleOurs);
  }
}
