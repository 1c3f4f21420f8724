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
 */
import { Inflater, Z_STREAM_END, ZlibError } from "../../../ffi/zlib.ts";
import { giveBuffer, takeBuffer } from "../store/buffer-pool.ts";
import type { Sha256Stream } from "../hash-offload.ts";

export { loadZlib } from "../../../ffi/zlib.ts";

const GZIP_MAGIC = 0x1f;

export async function* gunzip(src: AsyncIterable<Uint8Array>, hash?: Sha256Stream): AsyncGenerator<Uint8Array> {
  const z = new Inflater();
  let buf: Uint8Array | undefined;
  let memberOpen = false; // inside a member (its header may not even be complete yet)
  let members = 0; // members completed
  let trailing = false; // bytes after the last member: skipped to the end
  try {
    for await (const chunk of src) {
      if (trailing || chunk.byteLength === 0) continue;
      z.input(chunk);
      for (;;) {
        if (!memberOpen) {
          const rest = z.rest();
          if (rest.byteLength === 0) break;
          if (members > 0) {
            if (rest[0] !== GZIP_MAGIC) {
              trailing = true;
              break;
            }
            z.reset();
            z.input(rest);
          }
          memberOpen = true;
        }
        const out = (buf ??= takeBuffer());
        const [r, n] = z.inflate(out);
        if (n > 0) {
          const view = out.subarray(0, n);
          yield view;
          if (hash) {
            buf = undefined; // the hasher owns it now
            const w = hash.give(view, out);
            if (w) await w;
          }
        }
        if (r === Z_STREAM_END) {
          memberOpen = false;
          members++;
        } else if (n < out.byteLength && z.availIn === 0) break; // wants more input
        else if (n === 0) throw new ZlibError("Z_DATA_ERROR", "inflate made no progress");
      }
    }
    if (memberOpen || members === 0) throw new ZlibError("Z_BUF_ERROR", "unexpected end of file");
  } finally {
    z.close();
    if (buf) giveBuffer(buf);
  }
}
