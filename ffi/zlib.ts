/**
 * The system zlib (libz.so.1, part of every Linux base system), for gzip
 * layers: inflate into buffers the caller reuses, on the calling thread.
 * node:zlib allocates a fresh output buffer per chunk and hops through its
 * stream machinery; on a pull that is most of the decompression cost.
 * `loadZlib()` returns undefined when the library cannot be loaded (callers
 * fall back to node:zlib).
 */
import { CString, dlopen, FFIType, ptr } from "bun:ffi";

type Syms = {
  inflateInit2_: (strm: number, windowBits: number, version: number, size: number) => number;
  inflate: (strm: number, flush: number) => number;
  inflateReset: (strm: number) => number;
  inflateEnd: (strm: number) => number;
  zlibVersion: () => number;
};

let syms: Syms | null | undefined;

export function loadZlib(): boolean {
  if (syms === undefined) {
    try {
      const l = dlopen("libz.so.1", {
        inflateInit2_: { args: [FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
        inflate: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
        inflateReset: { args: [FFIType.ptr], returns: FFIType.i32 },
        inflateEnd: { args: [FFIType.ptr], returns: FFIType.i32 },
        zlibVersion: { args: [], returns: FFIType.ptr },
      });
      syms = l.symbols as unknown as Syms;
    } catch {
      syms = null;
    }
  }
  return syms !== null;
}

export const Z_OK = 0, Z_STREAM_END = 1, Z_NEED_DICT = 2, Z_BUF_ERROR = -5;
const CODES: Record<number, string> = { 2: "Z_NEED_DICT", [-2]: "Z_STREAM_ERROR", [-3]: "Z_DATA_ERROR", [-4]: "Z_MEM_ERROR", [-5]: "Z_BUF_ERROR", [-6]: "Z_VERSION_ERROR" };

/** A zlib failure; `code` is zlib's name (Z_DATA_ERROR…), as node:zlib reports it. */
export class ZlibError extends Error {
  override name = "ZlibError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

// struct z_stream on LP64 (x86_64, aarch64): 112 bytes.
const SIZE = 112, NEXT_IN = 0, AVAIL_IN = 8, NEXT_OUT = 24, AVAIL_OUT = 32, MSG = 48;

/** One gzip stream (windowBits 16+15: gzip wrapper required), or with `raw` a bare deflate stream (-15: no wrapper, no CRC). */
export class Inflater {
  readonly #strm = new Uint8Array(SIZE);
  readonly #dv = new DataView(this.#strm.buffer);
  readonly #p: number;
  #input: Uint8Array | undefined; // kept referenced while zlib points into it
  #output: Uint8Array | undefined;
  #open = true;

  constructor(raw = false) {
    if (!loadZlib()) throw new Error("libz.so.1 is not available");
    this.#p = ptr(this.#strm) as unknown as number;
    const r = syms!.inflateInit2_(this.#p, raw ? -15 : 16 + 15, syms!.zlibVersion(), SIZE);
    if (r !== Z_OK) throw this.#error(r);
  }

  /** Sets the input; zlib consumes it over the next inflate() calls. */
  input(b: Uint8Array): void {
    this.#input = b;
    this.#dv.setBigUint64(NEXT_IN, BigInt(b.byteLength === 0 ? 0 : (ptr(b) as unknown as number)), true);
    this.#dv.setUint32(AVAIL_IN, b.byteLength, true);
  }

  get availIn(): number {
    return this.#dv.getUint32(AVAIL_IN, true);
  }

  /** Input bytes not consumed yet (after Z_STREAM_END: what follows the member). */
  rest(): Uint8Array {
    const b = this.#input ?? new Uint8Array(0);
    return b.subarray(b.byteLength - this.availIn);
  }

  /** Inflates into `out`; returns [zlib result, bytes written to out]. Z_BUF_ERROR means "no progress possible" (needs input). */
  inflate(out: Uint8Array): [number, number] {
    this.#output = out;
    this.#dv.setBigUint64(NEXT_OUT, BigInt(ptr(out) as unknown as number), true);
    this.#dv.setUint32(AVAIL_OUT, out.byteLength, true);
    const r = syms!.inflate(this.#p, 0);
    const produced = out.byteLength - this.#dv.getUint32(AVAIL_OUT, true);
    if (r !== Z_OK && r !== Z_STREAM_END && r !== Z_BUF_ERROR) throw this.#error(r);
    return [r, produced];
  }

  /** Starts the next stream (a gzip file may be several concatenated members). */
  reset(): void {
    const r = syms!.inflateReset(this.#p);
    if (r !== Z_OK) throw this.#error(r);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    syms!.inflateEnd(this.#p);
    this.#input = this.#output = undefined;
  }

  #error(r: number): ZlibError {
    const m = this.#dv.getBigUint64(MSG, true);
    const msg = m === 0n ? (CODES[r] ?? `zlib error ${r}`) : new CString(Number(m) as never).toString();
    return new ZlibError(CODES[r] ?? `Z_ERROR_${r}`, msg);
  }
}
