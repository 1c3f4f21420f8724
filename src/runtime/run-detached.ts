/** `pelagos run -d`: validate, claim the name, store the configuration, hand over to a supervisor. */
import type { Context } from "../cli/context.ts";
import { PelagosError, Undo, UsageError } from "../errors.ts";
import { withLock } from "./lock.ts";
import { nameLockId } from "./name-lock.ts";
import { containerDir } from "../state/paths.ts";
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES, launchDetached } from "./detach.ts";
import { saveConfig } from "./observe.ts";
import { prepareRun, stopSettings, validateName, type RunOptions } from "./run-rootfs.ts";
import type { ContainerState } from "./container-state.ts";
import { randomHex } from "../state/random.ts";

export type DetachFlags = { logOpts: string[] };

export function parseLogOpts(opts: string[]): { maxBytes: number; maxFiles: number } {
  let maxBytes = DEFAULT_LOG_MAX_BYTES, maxFiles = DEFAULT_LOG_MAX_FILES;
  for (const o of opts) {
    const [k, v = ""] = o.split("=", 2) as [string, string?];
    if (k === "max-size") {
      const m = /^(\d+)([kmg]?)b?$/i.exec(v);
      if (!m) throw new UsageError(`Invalid --log-opt "${o}": expected max-size=N[k|m|g]`);
      maxBytes = Number(m[1]) * ({ "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as ""] ?? 1);
      if (maxBytes < 1024) throw new UsageError(`Invalid --log-opt "${o}": at least 1k`);
    } else if (k === "max-file") {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 9) throw new UsageError(`Invalid --log-opt "${o}": max-file is 1 to 9`);
      maxFiles = Number(v);
    } else throw new UsageError(`Invalid --log-opt "${o}": known options are max-size and max-file`);
  }
  return { maxBytes, maxFiles };
}

export async function runDetached(ctx: Context, o: RunOptions, d: DetachFlags): Promise<number> {
  const stop = stopSettings(o);
  const logs = parseLogOpts(d.logOpts);
  for (let attempt = 0; ; attempt++) {
    const name = o.name !== undefined ? validateName(o.name) : `pelagos-${randomHex(4)}`;
    try {
      // the name's lock is held from the claim to the hand-over: `cleanup` never judges a start in progress
      return await withLock(ctx.root, nameLockId(name), () => startNamed(ctx, o, name, { stop, logs }));
    } catch (e) {
      if (o.name === undefined && attempt < 5 && e instanceof PelagosError && e.code === "E_NAME_IN_USE") continue;
      throw e;
    }
  }
}

async function startNamed(ctx: Context, o: RunOptions, name: string, p: { stop: Partial<ContainerState>; logs: { maxBytes: number; maxFiles: number } }): Promise<number> {
  const dir = containerDir(ctx.root, name);
  const undo = new Undo();
  try {
    const { state, spec, config, overlay } = await prepareRun(ctx, o, name, undo, {
      ...p.stop, detached: true, init: o.init, interactive: o.interactive,
      log_max_bytes: p.logs.maxBytes, log_max_files: p.logs.maxFiles, stdout_log: `${dir}/stdout.log`, stderr_log: `${dir}/stderr.log`,
    }, true);
    // nobody's window to copy: docker's default size
    if (config.process?.terminal && !config.process.consoleSize) {
      config.process.consoleSize = { height: 24, width: 80 };
      saveConfig(ctx.root, name, config);
    }
    const userns = spec.security?.userns;
    state.launch = { overlay, ...(userns ? { idmap_rootfs: true, userns_auto: userns.auto } : {}) };
    await launchDetached(ctx, { config, state, interactive: o.interactive });
    undo.commit();
    console.log(name);
    return 0;
  } catch (e) {
    await undo.rollback(e);
    throw e;
  }
}
