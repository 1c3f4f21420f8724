/**
 * The lock of a `pelagos run` name: <root>/locks/run.<name>.lock, the same
 * file format as lock.ts (holder pid + start time; stale once the holder is
 * gone). Held while a name is claimed and its first record written, and by a
 * detached start until the hand-over, so `cleanup` never judges a record
 * that is being created.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { StateError } from "../errors.ts";
import { isAlive, processStartTime } from "../state/identity.ts";

export const nameLockId = (name: string) => `run.${name}`;

/** Takes the lock without waiting; undefined when a live process holds it. */
export function tryLock(root: string, id: string): (() => void) | undefined {
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

/** Waits (up to 10 s) for the lock; for the short synchronous claim. */
export function lockSync(root: string, id: string): () => void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const release = tryLock(root, id);
    if (release) return release;
    if (Date.now() > deadline) throw new StateError("E_LOCKED", `Container "${id.slice(4)}" is busy: another pelagos command holds its lock`);
    Bun.sleepSync(5);
  }
}
