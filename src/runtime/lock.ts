/**
 * Per-container locks for verbs that change state (start, delete, kill --all,
 * a name's claim): <root>/locks/<id>.lock, created with O_EXCL, holding the
 * holder's pid and start time; stale (and taken over) once the holder is gone.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { StateError } from "../errors.ts";
import { isAlive, processStartTime } from "../state/identity.ts";

/** Takes the lock without waiting; undefined when a live process holds it (or is writing it). */
export function tryLock(root: string, id: string): (() => void) | undefined {
  const dir = `${root}/locks`;
  const path = `${dir}/${id}.lock`;
  const me = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? 0 });
  for (let i = 0; i < 3; i++) {
    try {
      writeFileSync(path, me, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        mkdirSync(dir, { recursive: true, mode: 0o700 }); // the first lock under this root
        continue;
      }
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

function busy(id: string): StateError {
  const name = id.startsWith("run.") ? id.slice(4) : id;
  return new StateError("E_LOCKED", `Container "${name}" is busy: another pelagos command holds its lock`);
}

/** Runs `fn` holding the lock, waiting up to 10 s for it. */
export async function withLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  let release: (() => void) | undefined;
  while (!(release = tryLock(root, id))) {
    if (Date.now() > deadline) throw busy(id);
    await Bun.sleep(10);
  }
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Waits (up to 10 s) for the lock, synchronously; for the short claim of a name. */
export function lockSync(root: string, id: string): () => void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const release = tryLock(root, id);
    if (release) return release;
    if (Date.now() > deadline) throw busy(id);
    Bun.sleepSync(5);
  }
}
