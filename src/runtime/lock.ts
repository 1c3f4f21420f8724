/**
 * Per-container lock for verbs that change state (start, delete, kill --all):
 * an exclusive lock file created with O_EXCL, stale after its holder died.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { StateError } from "../errors.ts";
import { isAlive, processStartTime } from "../state/identity.ts";

export async function withLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  const dir = `${root}/locks`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = `${dir}/${id}.lock`;
  const me = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? 0 });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      writeFileSync(path, me, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder: { pid: number; startTime: number } | undefined;
      try {
        holder = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        /* being written */
      }
      if (holder && !isAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StateError("E_LOCKED", `Container "${id}" is busy: another pelagos command holds its lock`);
      await Bun.sleep(10);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
