/**
 * A minimal streaming tar writer for `image save`: ustar headers for
 * directories and regular files (names under 100 bytes; the archive layout
 * only has short names), file data copied from disk in chunks.
 */
import { closeSync, openSync, readSync } from "node:fs";

const enc = new TextEncoder();

function header(name: string, type: "0" | "5", size: number, mode: number): Uint8Array {
  if (Buffer.byteLength(name) > 99) throw new Error(`Tar name too long: "${name}"`);
  const h = new Uint8Array(512);
  const put = (off: number, s: string) => h.set(enc.encode(s), off);
  const oct = (off: number, len: number, n: number) => put(off, `${n.toString(8).padStart(len - 1, "0")}\0`);
  put(0, name);
  oct(100, 8, mode);
  oct(108, 8, 0);
  oct(116, 8, 0);
  oct(124, 12, size);
  oct(136, 12, 0);
  put(148, "        ");
  put(156, type);
  put(257, "ustar\u000000");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

export class TarWriter {
  constructor(private readonly write: (chunk: Uint8Array) => void) {}

  dir(name: string): void {
    this.write(header(name.endsWith("/") ? name : `${name}/`, "5", 0, 0o755));
  }

  bytes(name: string, data: Uint8Array | string): void {
    const b = typeof data === "string" ? enc.encode(data) : data;
    this.write(header(name, "0", b.byteLength, 0o644));
    this.write(b);
    this.#pad(b.byteLength);
  }

  /** Copies a file from disk; `size` must be its size (the store's blobs are immutable). */
  file(name: string, path: string, size: number): void {
    this.write(header(name, "0", size, 0o644));
    const fd = openSync(path, "r");
    const buf = new Uint8Array(1 << 20);
    let left = size;
    try {
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) throw new Error(`File "${path}" is shorter than expected`);
        this.write(buf.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
    this.#pad(size);
  }

  end(): void {
    this.write(new Uint8Array(1024));
  }

  #pad(n: number): void {
    const p = (512 - (n % 512)) % 512;
    if (p > 0) this.write(new Uint8Array(p));
  }
}
