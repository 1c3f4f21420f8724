/**
 * What a `pelagos run` container is now, derived from its record and the
 * processes it names (ADR 0002): a stored status goes stale the moment a
 * process dies unobserved, so it is only a hint.
 *
 *   exit.json present (written by the supervisor)       → exited, with its code
 *   stored "exited" (foreground run finished)           → exited
 *   init alive (pid + start time)                       → running
 *   supervisor/watcher alive, init not yet recorded     → created (starting)
 *   nothing alive                                       → dead (its owner was killed)
 */
import { existsSync, readdirSync } from "node:fs";
import * as v from "valibot";
import { parseConfig, type OciConfig } from "../oci/runtime/config.ts";
import { isAlive } from "../state/identity.ts";
import { containerDir } from "../state/paths.ts";
import { readJson, writeJsonAtomic } from "../state/store.ts";
import { StateError } from "../errors.ts";
import { readContainerState, type ContainerState } from "./container-state.ts";

export const ExitSchema = v.strictObject({
  exitCode: v.pipe(v.number(), v.integer()),
  signal: v.pipe(v.number(), v.integer()),
  finishedAt: v.string(),
  oomKilled: v.optional(v.boolean()),
});
export type ExitRecord = v.InferOutput<typeof ExitSchema>;

export type Status = "created" | "running" | "exited" | "dead";

export type Observed = {
  state: ContainerState;
  status: Status;
  exitCode?: number;
  finishedAt?: string;
  oomKilled?: boolean;
  /** the init is alive (pid + start time match) */
  initAlive: boolean;
  /** the supervisor (detached) or foreground pelagos is alive */
  ownerAlive: boolean;
};

export const exitFile = (root: string, name: string) => `${containerDir(root, name)}/exit.json`;
export const configFile = (root: string, name: string) => `${containerDir(root, name)}/config.json`;

export function readExit(root: string, name: string): ExitRecord | undefined {
  try {
    return readJson(exitFile(root, name), ExitSchema);
  } catch {
    return undefined; // a torn file cannot exist (rename); a bad one is treated as missing
  }
}

export function observe(root: string, state: ContainerState): Observed {
  const initAlive = state.pid > 0 && isAlive({ pid: state.pid, startTime: state.pid_start_time ?? -1 });
  const ownerAlive = isAlive({ pid: state.watcher_pid, startTime: state.watcher_start_time ?? -1 });
  const base = { state, initAlive, ownerAlive };
  const exit = state.detached ? readExit(root, state.name) : undefined;
  if (exit && !initAlive) return { ...base, status: "exited", exitCode: exit.exitCode, finishedAt: exit.finishedAt, oomKilled: exit.oomKilled };
  if (state.status === "exited" && !initAlive)
    return { ...base, status: "exited", exitCode: state.exit_code, finishedAt: state.finished_at, oomKilled: state.oom_killed };
  if (initAlive) return { ...base, status: "running" };
  if (ownerAlive) return { ...base, status: state.pid > 0 ? "running" : "created" };
  return { ...base, status: "dead" };
}

/** Names of every `pelagos run` container record (directories with a state.json). */
export function listNames(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(`${root}/containers`);
  } catch {
    return [];
  }
  return entries.filter((e) => !e.startsWith(".") && existsSync(`${root}/containers/${e}/state.json`)).sort();
}

export function loadState(root: string, name: string): ContainerState {
  const s = readContainerState(root, name);
  if (!s) throw new StateError("E_NOT_FOUND", `No such container: "${name}"`);
  return s;
}

/** Every record that can be read; unreadable ones are skipped (cleanup reports them). */
export function observeAll(root: string): Observed[] {
  return listNames(root).flatMap((n) => {
    try {
      const s = readContainerState(root, n);
      return s ? [observe(root, s)] : [];
    } catch {
      return [];
    }
  });
}

export function saveConfig(root: string, name: string, config: OciConfig): void {
  writeJsonAtomic(configFile(root, name), config);
}

export function loadConfig(root: string, name: string): OciConfig {
  const r = readJson(configFile(root, name), v.unknown());
  if (r === undefined) throw new StateError("E_NOT_FOUND", `Container "${name}" has no stored configuration (it was not started by this version)`);
  const config = parseConfig(r);
  // the OCI schema drops what it does not know, and `run` stores Docker's profile with its
  // includes/excludes (capability gates) and archMap: a filter compiled from the parsed copy
  // would let exec do what the container may not. The seccomp compiler validates the raw one.
  const seccomp = (r as { linux?: { seccomp?: unknown } }).linux?.seccomp;
  if (config.linux && seccomp !== undefined) config.linux.seccomp = seccomp as NonNullable<OciConfig["linux"]>["seccomp"];
  return config;
}

/** A name claimed by a start that never completed (its pelagos or supervisor died): safe to take over. */
export function isStaleClaim(root: string, state: ContainerState): boolean {
  const o = observe(root, state);
  if (o.initAlive || o.ownerAlive || state.restart_count) return false;
  // exit.json comes only from a supervisor that took the container over (detach.ts, step 4): a
  // pelagos killed after that, before it wrote "running", still leaves a container that ran
  if (o.status === "exited") return false;
  return state.status === "created" || (!state.detached && state.status !== "exited");
}
