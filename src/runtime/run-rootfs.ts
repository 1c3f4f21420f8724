/**
 * `pelagos run [options] --rootfs DIR [CMD...]`: a foreground container for
 * people. Options → RunSpec → OCI config → the same init as OCI bundles.
 */
import { mkdirSync, rmSync } from "node:fs";
import * as sys from "../../ffi/sys.ts";
import type { Context } from "../cli/context.ts";
import { PelagosError, Undo, UsageError } from "../errors.ts";
import { buildRunConfig } from "../plan/docker-config.ts";
import { processStartTime } from "../state/identity.ts";
import { containerDir } from "../state/paths.ts";
import { readContainerState, writeContainerState, type ContainerState } from "./container-state.ts";
import { SignalForwarder, waitForeground } from "./foreground.ts";
import { buildRunSpec, type RunFlags } from "./run-options.ts";
import type { DetachFlags } from "./run-detached.ts";
import type { RunSpec } from "../plan/docker-config.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import { prepareImage, releaseImage } from "./run-image.ts";
import { usernsInit } from "./security-options.ts";
import { startInit } from "./start-init.ts";
import { parseSignal } from "./oci/kill.ts";
import { isStaleClaim, saveConfig } from "./observe.ts";
import { lockSync, nameLockId } from "./name-lock.ts";
import { cgroupOf, destroyCgroup, finishForegroundCgroup, type createContainerCgroup } from "./cgroup-setup.ts";
import { createRecordedCgroup, removeClaimedLeaves } from "./cgroup-claim.ts";
import { randomHex } from "../state/random.ts";

export type RunOptions = RunFlags & {
  interactive: boolean;
  rm: boolean;
  /** run an image instead of --rootfs */
  image?: string;
  entrypoint?: string;
  pull?: "always" | "missing" | "never";
  platform?: string;
  init?: boolean;
  /** for `stop` (both foreground and detached): --stop-signal, --stop-timeout */
  stopSignal?: string;
  stopTimeout?: string;
  detach?: DetachFlags;
};

export function validateName(name: string): string {
  if (!name) throw new UsageError("Invalid --name: it must not be empty");
  if (name.length > 64) throw new UsageError(`Invalid --name "${name.slice(0, 20)}…": longer than 64 characters`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.includes(".."))
    throw new UsageError(`Invalid --name "${name}": use letters, digits, "_", "." and "-", starting with a letter or digit`);
  return name;
}

/** Claims the name: creates its directory exclusively (concurrent runs cannot both get it). */
export async function claimName(ctx: Context, initial: ContainerState, o: { locked?: boolean } = {}): Promise<string> {
  const release = o.locked ? undefined : lockSync(ctx.root, nameLockId(initial.name));
  try {
    const dir = await claimDir(ctx, initial.name);
    writeContainerState(ctx.root, initial);
    return dir;
  } finally {
    release?.();
  }
}

async function claimDir(ctx: Context, name: string): Promise<string> {
  const dir = containerDir(ctx.root, name);
  mkdirSync(`${ctx.root}/containers`, { recursive: true, mode: 0o711 });
  try {
    mkdirSync(dir, { mode: 0o711 });
    return dir;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const prev = readContainerStateSafe(ctx, name);
  // a dead foreground run (pelagos was SIGKILLed) leaves a stale claim: take it over
  if (prev && isStaleClaim(ctx.root, prev)) {
    await destroyCgroup(cgroupOf(prev.cgroup));
    removeClaimedLeaves(prev);
    rmSync(dir, { recursive: true, force: true });
    return claimDir(ctx, name);
  }
  throw new PelagosError("E_NAME_IN_USE", `The container name "${name}" is already in use (remove it with "pelagos rm ${name}")`);
}

function readContainerStateSafe(ctx: Context, name: string): ContainerState | undefined {
  try {
    return readContainerState(ctx.root, name);
  } catch {
    return undefined;
  }
}

/** --stop-signal / --stop-timeout, validated, as record fields. */
export function stopSettings(o: RunOptions): Partial<ContainerState> {
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);
  const t = o.stopTimeout;
  if (t !== undefined && (!/^\d+$/.test(t) || Number(t) > 86400)) throw new UsageError(`Invalid --stop-timeout "${t}": expected seconds (0 to 86400)`);
  return { ...(o.stopSignal ? { stop_signal: o.stopSignal } : {}), ...(t !== undefined ? { stop_timeout: Number(t) } : {}) };
}

export type PreparedRun = {
  dir: string;
  state: ContainerState;
  spec: RunSpec;
  config: OciConfig;
  overlay?: { lower: string[]; upper: string; work: string };
};

/**
 * Claims the name with a first record (before an image pull, which may take a
 * while), then resolves the image and the spec into the OCI config and stores
 * it beside state.json (exec and start read it). Undo steps go to `undo`.
 */
export async function prepareRun(ctx: Context, o: RunOptions, name: string, undo: Undo, extra: Partial<ContainerState> = {}, locked = false): Promise<PreparedRun> {
  const dir = containerDir(ctx.root, name);
  const state: ContainerState = {
    name, rootfs: o.rootfs, status: "created", pid: 0, watcher_pid: process.pid,
    watcher_start_time: processStartTime(process.pid), started_at: new Date().toISOString(),
    command: o.command, labels: {}, rm: o.rm, ...(o.image ? { image: o.image } : {}), ...extra,
  };
  await claimName(ctx, state, { locked });
  undo.push(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  let spec: RunSpec;
  let overlay: PreparedRun["overlay"];
  if (o.image) {
    const img = await prepareImage(o, name, undo);
    overlay = img.overlay;
    spec = buildRunSpec({ ...o, rootfs: img.rootfs }, name, process.env, img.defaults);
  } else spec = buildRunSpec(o, name, process.env);
  const config = buildRunConfig(spec);
  Object.assign(state, {
    rootfs: spec.rootfs, command: spec.args, hostname: spec.hostname, labels: spec.labels,
    ...(config.linux?.resources ? { resources: config.linux.resources } : {}),
  });
  writeContainerState(ctx.root, state);
  saveConfig(ctx.root, name, config);
  return { dir, state, spec, config, overlay };
}

export async function runRootfs(ctx: Context, o: RunOptions): Promise<number> {
  if (o.detach) return (await import("./run-detached.ts")).runDetached(ctx, o, o.detach);
  const name = o.name !== undefined ? validateName(o.name) : `pelagos-${randomHex(4)}`;
  const undo = new Undo();
  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(ctx, o, name, undo, stopSettings(o));
  } catch (e) {
    await undo.rollback(e);
    throw e;
  }
  const { dir, state, spec, config, overlay } = prepared;
  let devnull: number | undefined;
  const signals = new SignalForwarder();
  let cgroup: Awaited<ReturnType<typeof createContainerCgroup>> | undefined;
  try {
    cgroup = await createRecordedCgroup(ctx.root, state, config, undo);
    if (!o.interactive) devnull = sys.open("/dev/null", sys.O_RDONLY);
    const init = await startInit({
      config, rootfs: spec.rootfs, mode: "run", ownTerminal: true, overlay, userns: usernsInit(spec.security),
      stdio: [devnull ?? "inherit", "inherit", "inherit"], preserveFds: 0, log: ctx.log, cacheDir: `${ctx.root}/.seccomp`, cgroup,
      init: o.init,
      hookState: (pid, status) => ({ ociVersion: "1.2.0", id: name, status, pid, bundle: dir }),
      onCreated: (pid, startTime) => {
        state.pid = pid;
        state.pid_start_time = startTime;
        state.status = "running";
        writeContainerState(ctx.root, state);
      },
    });
    cgroup.closeDirfd();
    undo.commit();
    if (devnull !== undefined) sys.close(devnull);
    devnull = undefined;
    const code = await waitForeground(init, { interactive: o.interactive, signals });
    const oom = await finishForegroundCgroup(cgroup, ctx.log);
    delete state.cgroup;
    if (oom) state.oom_killed = true;
    if (o.rm) {
      rmSync(dir, { recursive: true, force: true });
      if (o.image) await releaseImage(name);
    } else {
      try {
        writeContainerState(ctx.root, { ...state, status: "exited", exit_code: code, finished_at: new Date().toISOString() });
      } catch (e) {
        // `pelagos rm -f` removed the record while we waited: nothing to keep
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    return code;
  } catch (e) {
    cgroup?.closeDirfd();
    signals.dispose();
    if (devnull !== undefined) sys.close(devnull);
    await undo.rollback(e);
    throw e;
  }
}
