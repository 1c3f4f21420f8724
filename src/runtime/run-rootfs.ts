/**
 * `pelagos run [options] --rootfs DIR [CMD...]`: a foreground container for
 * people. Options → RunSpec → OCI config → the same init as OCI bundles.
 */
import { mkdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import * as sys from "../../ffi/sys.ts";
import type { Context } from "../cli/context.ts";
import { PelagosError, Undo, UsageError } from "../errors.ts";
import { buildRunConfig } from "../plan/docker-config.ts";
import { isAlive, processStartTime } from "../state/identity.ts";
import { containerDir } from "../state/paths.ts";
import { readContainerState, writeContainerState, type ContainerState } from "./container-state.ts";
import { SignalForwarder, waitForeground } from "./foreground.ts";
import { buildRunSpec, type RunFlags } from "./run-options.ts";
import type { RunSpec } from "../plan/docker-config.ts";
import { prepareImage, releaseImage } from "./run-image.ts";
import { usernsInit } from "./security-options.ts";
import { startInit } from "./start-init.ts";
import { cgroupOf, createContainerCgroup, destroyCgroup, finishForegroundCgroup } from "./cgroup-setup.ts";

export type RunOptions = RunFlags & {
  interactive: boolean;
  rm: boolean;
  /** run an image instead of --rootfs */
  image?: string;
  entrypoint?: string;
  pull?: "always" | "missing" | "never";
  platform?: string;
};

export function validateName(name: string): string {
  if (!name) throw new UsageError("Invalid --name: it must not be empty");
  if (name.length > 64) throw new UsageError(`Invalid --name "${name.slice(0, 20)}…": longer than 64 characters`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.includes(".."))
    throw new UsageError(`Invalid --name "${name}": use letters, digits, "_", "." and "-", starting with a letter or digit`);
  return name;
}

/** Claims the name: creates its directory exclusively (concurrent runs cannot both get it). */
async function claimName(ctx: Context, name: string): Promise<string> {
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
  if (prev && prev.status !== "exited" && !isAlive({ pid: prev.watcher_pid, startTime: prev.watcher_start_time ?? -1 })) {
    await destroyCgroup(cgroupOf(prev.cgroup));
    rmSync(dir, { recursive: true, force: true });
    return claimName(ctx, name);
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

export async function runRootfs(ctx: Context, o: RunOptions): Promise<number> {
  const name = o.name !== undefined ? validateName(o.name) : `pelagos-${randomBytes(4).toString("hex")}`;
  const undo = new Undo();
  const dir = await claimName(ctx, name);
  undo.push(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  let spec: RunSpec;
  let overlay: { lower: string[]; upper: string; work: string } | undefined;
  try {
    if (o.image) {
      const img = await prepareImage(o, name, undo);
      overlay = img.overlay;
      spec = buildRunSpec({ ...o, rootfs: img.rootfs }, name, process.env, img.defaults);
    } else spec = buildRunSpec(o, name, process.env);
  } catch (e) {
    await undo.rollback(e);
    throw e;
  }
  const config = buildRunConfig(spec);
  let devnull: number | undefined;
  const signals = new SignalForwarder();
  const state: ContainerState = {
    name, rootfs: spec.rootfs, status: "created", pid: 0, watcher_pid: process.pid,
    watcher_start_time: processStartTime(process.pid), started_at: new Date().toISOString(),
    command: spec.args, hostname: spec.hostname, labels: spec.labels, rm: o.rm,
    ...(config.linux?.resources ? { resources: config.linux.resources } : {}),
    ...(o.image ? { image: o.image } : {}),
  };
  let cgroup: Awaited<ReturnType<typeof createContainerCgroup>> | undefined;
  try {
    cgroup = await createContainerCgroup(name, config, undo);
    state.cgroup = cgroup.state();
    writeContainerState(ctx.root, state);
    if (!o.interactive) devnull = sys.open("/dev/null", sys.O_RDONLY);
    const init = await startInit({
      config, rootfs: spec.rootfs, mode: "run", ownTerminal: true, overlay, userns: usernsInit(spec.security),
      stdio: [devnull ?? "inherit", "inherit", "inherit"], preserveFds: 0, log: ctx.log, cacheDir: `${ctx.root}/.seccomp`, cgroup,
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
