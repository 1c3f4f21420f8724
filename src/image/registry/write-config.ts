/** Atomic write of a file outside the store (docker's config.json): temp file beside it, fsync, rename. */
import { writeFileAtomic } from "../../state/store.ts";

export function writeFileAtomicAnywhere(path: string, data: string, mode: number): void {
  writeFileAtomic(path, data, mode, { durable: true });
}
