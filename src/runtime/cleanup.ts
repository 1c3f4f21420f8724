/**
 * Finds what dead `pelagos run` containers left and removes it — and only
 * that. A container's mounts live in its mount namespace and vanish with it;
 * what stays is its directory under <root>/containers:
 *   - a start that never completed (pelagos or the supervisor died before the
 *     hand-over): status "created" with nothing alive;
 *   - a `--rm` container whose owner is gone (it exited, or was killed);
 *   - a directory without state.json older than a minute (killed between the
 *     name claim and the first write; younger ones may be a claim in progress);
 *   - temp files of interrupted atomic writes, older than a minute.
 * Every delete goes through removeContainerDir (a validated name under
 * <root>/containers) or unlinks a single file in such a directory.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isAlive, processStartTime } from "../state/identity.ts";
import type { Context } from "../cli/context.ts";
import { readContainerState, type ContainerState } from "./container-state.ts";
import { removeContainerDir } from "./detach.ts";
import { isStaleClaim, observe } from "./observe.ts";

const GRACE_MS = 60_000;

export type Swept = { name: string; why: string }[];

function olderThanGrace(path: string, now: number): boolean {
  try {
    return now - statSync(path).mtimeMs > GRACE_MS;
  } catch {
    return false; // renamed or removed meanwhile
  }
}

function verdict(root: string, s: ContainerState): string | undefined {
  if (isStaleClaim(root, s)) return "its start never completed";
  const o = observe(root, s);
  if (s.rm && !o.ownerAlive && !o.initAlive && (o.status === "exited" || o.status === "dead")) return "it exited and was started with --rm";
  return undefined;
}

/** The lock withLock() (lock.ts) takes, without waiting: undefined when someone holds it. */
function tryLock(root: string, id: string): (() => void) | undefined {
  const dir = `${root}/locks`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = `${dir}/${id}.lock`;
  const me = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? 0 });
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(path, me, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder: { pid: number; startTime: number } | undefined;
      try {
        holder = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        return undefined; // being written
      }
      if (!holder || isAlive(holder)) return undefined;
      rmSync(path, { force: true });
    }
  }
  return undefined;
}

export function sweep(ctx: Context, now = Date.now()): Swept {
  const base = `${ctx.root}/containers`;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const out: Swept = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const dir = `${base}/${name}`;
    try {
      for (const f of readdirSync(dir)) if (f.startsWith(".") && f.endsWith(".tmp") && olderThanGrace(`${dir}/${f}`, now)) rmSync(`${dir}/${f}`, { force: true });
      const s = readContainerState(ctx.root, name);
      if (!s) {
        if (olderThanGrace(dir, now)) {
          removeContainerDir(ctx.root, name);
          out.push({ name, why: "no state.json" });
        }
        continue;
      }
      const why = verdict(ctx.root, s);
      if (!why) continue;
      // a start in progress holds the name's lock; and the record must not have moved on since it was judged
      const release = tryLock(ctx.root, `run.${name}`);
      if (!release) continue;
      try {
        const again = readContainerState(ctx.root, name);
        if (again && JSON.stringify(again) === JSON.stringify(s) && verdict(ctx.root, again) === why) {
          removeContainerDir(ctx.root, name);
          out.push({ name, why });
        }
      } finally {
        release();
      }
    } catch (e) {
      ctx.log.debug(`cleanup: skipping "${name}": ${(e as Error).message}`);
    }
  }
  return out;
}
