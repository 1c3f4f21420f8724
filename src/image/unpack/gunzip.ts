/**
 * gzip → bytes through the system zlib (ffi/zlib.ts), inflating into
 * pooled buffers. Each yielded chunk is a view that stays valid until the
 * consumer asks for the next one (the tar reader is done with a chunk by
 * then). With `hash`, each chunk is then handed to it, buffer and all (it
 * comes back to the pool once hashed); without, buffers are reused at once.
 *
 * Like gzip(1) and node:zlib: concatenated members are one stream, bytes
 * after the last member that do not start another one are ignored, and a
 * stream that ends inside a member is an error (Z_BUF_ERROR, "unexpected
 * end of file"). The source is always read to its end, so a digest taken
 * over it covers every byte.
 *
 * The gzip wrapper (RFC 1952) is parsed here and the deflate data inflated
 * raw: zlib would otherwise compute a CRC-32 of every output byte (~5% of a
 * pull), and the caller checks a SHA-256 of that same output (the diff_id)
 * against the image config, which says strictly more. The trailer (CRC-32,
 * size) is skipped, not checked.
 */
import { Inflater, Z_STREAM_END, ZlibError } from "../../../ffi/zlib.ts";
import { giveBuffer, takeBuffer } from "../store/buffer-pool.ts";
import type { Sha256Stream } from "../hash-offload.ts";

export { loadZlib } from "../../../ffi/zlib.ts";

const ID1 = 0x1f, ID2 = 0x8b, CM_DEFLATE = 8;
const FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, FRESERVED = 0xe0;

/** Length of the gzip member header at the start of `h`, or -1 when `h` is too short to tell. */
export function gzipHeaderLength(h: Uint8Array): number {
  if (h.length >= 1 && h[0] !== ID1) throw new ZlibError("Z_DATA_ERROR", "incorrect header check");
  if (h.length >= 2 && h[1] !== ID2) throw new ZlibError("Z_DATA_ERROR", "incorrect header check");
  if (h.length >= 3 && h[2] !== CM_DEFLATE) throw new ZlibError("Z_DATA_ERROR", "unknown compression method");
  if (h.length < 10) return -1;
  const flags = h[3]!;
  if (flags & FRESERVED) throw new ZlibError("Z_DATA_ERROR", "unknown header flags set");
  let n = 10;
  if (flags & FEXTRA) {
    if (h.length < n + 2) return -1;
    n += 2 + (h[n]! | (h[n + 1]! << 8));
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (!(flags & f)) continue;
    if (h.length <= n) return -1;
    const z = h.indexOf(0, n);
    if (z === -1) return -1;
    n = z + 1;
  }
  if (flags & FHCRC) n += 2;
  return h.length >= n ? n : -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

type State = "between" | "header" | "body" | "trailer" | "trailing";

export async function* gunzip(src: AsyncIterable<Uint8Array>, hash?: Sha256Stream): AsyncGenerator<Uint8Array> {
  const z = new Inflater(true);
  let buf: Uint8Array | undefined;
  let state: State = "between";
  let header: Uint8Array = new Uint8Array(0); // a header split across chunks
  let trailerLeft = 0;
  let members = 0;
  try {
    for await (const chunk of src) {
      let input = chunk;
      while (input.byteLength > 0 && state !== "trailing") {
        if (state === "between") {
          if (members > 0 && input[0] !== ID1) {
            state = "trailing"; // not another member: ignored, but still read (the blob digest covers it)
            break;
          }
          state = "header";
        }
        if (state === "header") {
          const seen = header.length;
          header = seen === 0 ? input : concat(header, input);
          const n = gzipHeaderLength(header);
          if (n === -1) {
            if (seen === 0) header = input.slice();
            input = new Uint8Array(0);
            continue;
          }
          input = input.subarray(n - seen);
          header = new Uint8Array(0);
          if (members > 0) z.reset();
          state = "body";
        }
        if (state === "body") {
          z.input(input);
          input = new Uint8Array(0);
          for (;;) {
            const out = (buf ??= takeBuffer());
            const [r, n] = z.inflate(out);
            if (n > 0) {
              const view = out.subarray(0, n);
              yield view;
              if (hash) {
                buf = undefined; // the hasher owns it now
                hash.give(view, out);
              }
            }
            if (r === Z_STREAM_END) {
              input = z.rest();
              state = "trailer";
              trailerLeft = 8;
              break;
            }
            if (n < out.byteLength && z.availIn === 0) break; // wants more input
            if (n === 0) throw new ZlibError("Z_DATA_ERROR", "inflate made no progress");
          }
          continue;
        }
        // trailer: CRC-32 and size, skipped (see above)
        const k = Math.min(trailerLeft, input.byteLength);
        input = input.subarray(k);
        trailerLeft -= k;
        if (trailerLeft === 0) {
          members++;
          state = "between";
        }
      }
    }
    if ((state !== "between" && state !== "trailing") || members === 0) throw new ZlibError("Z_BUF_ERROR", "unexpected end of file");
  } finally {
    z.close();
    if (buf) giveBuffer(buf);
  }
}
