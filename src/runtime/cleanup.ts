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
import { readdirSync, rmSync, statSync } from "node:fs";
import type { Context } from "../cli/context.ts";
import { readContainerState } from "./container-state.ts";
import { removeContainerDir } from "./detach.ts";
import { isStaleClaim, observe } from "./observe.ts";

const GRACE_MS = 60_000;

export type Swept = { name: string; why: string }[];

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
      for (const f of readdirSync(dir))
        if (f.startsWith(".") && f.endsWith(".tmp") && now - statSync(`${dir}/${f}`).mtimeMs > GRACE_MS) rmSync(`${dir}/${f}`, { force: true });
      const s = readContainerState(ctx.root, name);
      if (!s) {
        if (now - statSync(dir).mtimeMs > GRACE_MS) {
          removeContainerDir(ctx.root, name);
          out.push({ name, why: "no state.json" });
        }
        continue;
      }
      if (isStaleClaim(ctx.root, s)) {
        removeContainerDir(ctx.root, name);
        out.push({ name, why: "its start never completed" });
        continue;
      }
      const o = observe(ctx.root, s);
      if (s.rm && !o.ownerAlive && !o.initAlive && (o.status === "exited" || o.status === "dead")) {
        removeContainerDir(ctx.root, name);
        out.push({ name, why: "it exited and was started with --rm" });
      }
    } catch (e) {
      ctx.log.debug(`cleanup: skipping "${name}": ${(e as Error).message}`);
    }
  }
  return out;
}
