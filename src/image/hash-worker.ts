/**
 * Worker entry (a second entry point of the compiled binary, see build.ts):
 * SHA-256 of many streams, each chunk handed over with its buffer, and
 * syncfs() calls that would otherwise block the main thread. See
 * hash-offload.ts for the protocol and why.
 */
import { closeSync, openSync } from "node:fs";
import { syncfs } from "../../ffi/direct-io.ts";
export type ToHashWorker =
  | { t: "data"; id: number; ab: ArrayBuffer; off: number; len: number; back?: { off: number; len: number } }
  | { t: "digest"; id: number }
  | { t: "drop"; id: number }
  | { t: "syncfs"; id: number; path: string };
export type FromHashWorker =
  | { t: "back"; n: number; ab?: ArrayBuffer; off?: number; len?: number }
  | { t: "digest"; id: number; hex: string }
  | { t: "synced"; id: number; err?: string };

type Port = { onmessage: ((m: MessageEvent<ToHashWorker>) => void) | null; postMessage: (m: FromHashWorker, transfer?: ArrayBuffer[]) => void };
const port = globalThis as unknown as Port;
const hashers = new Map<number, Bun.CryptoHasher>();

port.onmessage = ({ data: m }) => {
  if (m.t === "data") {
    let h = hashers.get(m.id);
    if (h === undefined) hashers.set(m.id, (h = new Bun.CryptoHasher("sha256")));
    h.update(new Uint8Array(m.ab, m.off, m.len));
    // A pooled buffer goes back to its owner; any other buffer is garbage now.
    if (m.back) port.postMessage({ t: "back", n: m.len, ab: m.ab, ...m.back }, [m.ab]);
    else port.postMessage({ t: "back", n: m.len });
  } else if (m.t === "digest") {
    const h = hashers.get(m.id) ?? new Bun.CryptoHasher("sha256");
    hashers.delete(m.id);
    port.postMessage({ t: "digest", id: m.id, hex: h.digest("hex") });
  } else if (m.t === "syncfs") {
    try {
      const fd = openSync(m.path, "r");
      try {
        syncfs(fd);
      } finally {
        closeSync(fd);
      }
      port.postMessage({ t: "synced", id: m.id });
    } catch (e) {
      port.postMessage({ t: "synced", id: m.id, err: (e as Error).message });
    }
  } else hashers.delete(m.id);
};
