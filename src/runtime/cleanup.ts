/**
 * Finds what dead `pelagos run` containers left and removes it — and only
 * that. A container's mounts live in its mount namespace and vanish with it;
 * what stays is its directory under <root>/containers:
 *   - a start that never completed (pelagos or the supervisor died before the
 *     hand-over): status "created" with nothing alive;
 *   - a `--rm` container whose owner is gone (it exited, or was killed);
 *   - a directory without state.json whose name lock is free (killed between
 *     the name claim and the first write, which happen under that lock);
 *   - temp files of interrupted atomic writes, older than a minute;
 *   - the cgroup of a stopped container whose owner died (the supervisor removes it otherwise).
 * Every delete goes through removeContainerDir (a validated name under
 * <root>/containers) or unlinks a single file in such a directory.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { nameLockId, tryLock } from "./name-lock.ts";
import type { Context } from "../cli/context.ts";
import { readContainerState, writeContainerState, type ContainerState } from "./container-state.ts";
import { cgroupOf, destroyCgroup } from "./cgroup-setup.ts";
import { removeClaimedLeaves } from "./cgroup-claim.ts";
import { removeContainerDir } from "./detach.ts";
import { releaseImage } from "./run-image.ts";
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

/**
 * A stopped container keeps its record, not its cgroup: the supervisor removes it after the
 * exit, but not when it was killed itself, and a foreground pelagos killed mid-run cannot.
 */
async function dropDeadCgroup(ctx: Context, s: ContainerState): Promise<void> {
  if (!s.cgroup && !s.cgroup_claim?.length) return;
  const o = observe(ctx.root, s);
  if (o.initAlive || o.ownerAlive) return;
  const release = tryLock(ctx.root, nameLockId(s.name));
  if (!release) return;
  try {
    const again = readContainerState(ctx.root, s.name);
    if (!again || JSON.stringify(again) !== JSON.stringify(s)) return;
    await destroyCgroup(cgroupOf(again.cgroup));
    removeClaimedLeaves(again);
    delete again.cgroup;
    delete again.cgroup_claim;
    writeContainerState(ctx.root, again);
  } finally {
    release();
  }
}

function verdict(root: string, s: ContainerState): string | undefined {
  if (isStaleClaim(root, s)) return "its start never completed";
  const o = observe(root, s);
  if (s.rm && !o.ownerAlive && !o.initAlive && (o.status === "exited" || o.status === "dead")) return "it exited and was started with --rm";
  return undefined;
}

export async function sweep(ctx: Context, now = Date.now()): Promise<Swept> {
  const base = `${ctx.root}/containers`;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const out: Swept = [];
  // name locks left by a killed pelagos: taking one removes it when its holder is gone
  try {
    for (const f of readdirSync(`${ctx.root}/locks`)) if (f.startsWith("run.") && f.endsWith(".lock")) tryLock(ctx.root, f.slice(0, -5))?.();
  } catch {
    /* no locks */
  }
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const dir = `${base}/${name}`;
    try {
      for (const f of readdirSync(dir)) if (f.startsWith(".") && f.endsWith(".tmp") && olderThanGrace(`${dir}/${f}`, now)) rmSync(`${dir}/${f}`, { force: true });
      const s = readContainerState(ctx.root, name);
      if (!s) {
        // claims write their first record under the name's lock: unlocked and still empty = abandoned
        const release = tryLock(ctx.root, nameLockId(name));
        if (!release) continue;
        try {
          if (!readContainerState(ctx.root, name)) {
            removeContainerDir(ctx.root, name);
            out.push({ name, why: "its start never wrote a record" });
          }
        } finally {
          release();
        }
        continue;
      }
      const why = verdict(ctx.root, s);
      if (!why) {
        await dropDeadCgroup(ctx, s);
        continue;
      }
      // a start in progress holds the name's lock; and the record must not have moved on since it was judged
      const release = tryLock(ctx.root, nameLockId(name));
      if (!release) continue;
      try {
        const again = readContainerState(ctx.root, name);
        if (again && JSON.stringify(again) === JSON.stringify(s) && verdict(ctx.root, again) === why) {
          await destroyCgroup(cgroupOf(s.cgroup));
          removeClaimedLeaves(s);
          removeContainerDir(ctx.root, name);
          if (s.image) await releaseImage(name);
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
