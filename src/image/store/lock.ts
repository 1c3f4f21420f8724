/**
 * flock-based locks under locks/. Waiting never blocks the event loop (the
 * lock is polled with LOCK_NB), so parallel layer downloads in one process
 * and other processes can hold locks at the same time.
 */
import { LOCK_EX, LOCK_SH, O_CREAT, O_RDWR, AT_FDCWD, close, flockUnlock, openat, tryFlock } from "../../../ffi/fs.ts";
import { ensureStore, paths } from "./paths.ts";

export async function withLock<T>(name: string, mode: "shared" | "exclusive", fn: () => Promise<T> | T): Promise<T> {
  ensureStore();
  const fd = openat(AT_FDCWD, paths.lock(name), O_RDWR | O_CREAT, 0o600);
  try {
    let delay = 5;
    while (!tryFlock(fd, mode === "shared" ? LOCK_SH : LOCK_EX)) {
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
    try {
      return await fn();
    } finally {
      flockUnlock(fd);
    }
  } finally {
    close(fd);
  }
}

/** Pulls and container registration share the store; rm and prune take it alone. */
export const withStoreLock = <T>(mode: "shared" | "exclusive", fn: () => Promise<T> | T) => withLock("store.lock", mode, fn);
