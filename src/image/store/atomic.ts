/** Temp file + fsync + rename: readers see the old file or the new one, never a torn one. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { paths, ensureStore } from "./paths.ts";
import { randomHex } from "../../state/random.ts";

export function tempName(tag: string): string {
  ensureStore();
  return `${paths.tmp()}/${tag}-${process.pid}-${randomHex(6)}`;
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = tempName("file");
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
