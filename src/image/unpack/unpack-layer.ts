/**
 * One layer: decompress a stream (gzip through the system zlib when it
 * loads, else node:zlib; zstd; none — all streaming), hash
 * the uncompressed bytes (the diff_id), and write the tar into `dest`.
 * The caller verifies the returned diff_id before trusting `dest`.
 */
import { Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import type { Compression } from "../../oci/image/media-types.ts";
import { LayerWriter } from "./layer-writer.ts";
import { readTar } from "./tar-reader.ts";
import { gunzip, loadZlib } from "./gunzip.ts";
import { sha256Stream, type Sha256Stream } from "../hash-offload.ts";

/** True when gzip goes through our own inflater, which is done with each input chunk when it asks for the next. */
export function ownsGunzip(compression: Compression): boolean {
  return compression === "gzip" && process.env.PELAGOS_NODE_ZLIB !== "1" && loadZlib();
}

/** The decompressed stream for the non-gzip cases, and for gzip when our inflater is unavailable or off. */
function decompress(src: AsyncIterable<Uint8Array>, compression: Compression): AsyncIterable<Uint8Array> {
  if (compression === "none") return src;
  // 1 MiB output chunks: the 16 KiB default makes Bun's stream plumbing the bottleneck (~6x slower).
  const z = compression === "gzip" ? createGunzip({ chunkSize: 1 << 20 }) : createZstdDecompress({ chunkSize: 1 << 20 });
  const input = Readable.from(src, { objectMode: false });
  input.on("error", (e) => z.destroy(e));
  input.pipe(z);
  return z as AsyncIterable<Uint8Array>;
}

export type UnpackResult = { diffId: string; entries: number; size: number };

export async function unpackLayer(src: AsyncIterable<Uint8Array>, compression: Compression, dest: string): Promise<UnpackResult> {
  const w = new LayerWriter(dest); // first: nothing to undo if it throws
  let size = 0;
  // The diff_id: each chunk is hashed (on the hashing thread, when there is one) once the tar
  // reader is done with it. Our inflater hands its pooled buffers over; other decompressors'
  // chunks are fresh buffers that nobody writes to again.
  const h = sha256Stream();
  const plain = ownsGunzip(compression) ? gunzip(src, h) : hashed(decompress(src, compression), h);
  const tar = counting(plain, (n) => (size += n));
  try {
    await readTar(tar, (e, body) => w.write(e, body));
    w.finish();
  } catch (e) {
    await tar.return(undefined); // ends the decompressor now (our inflater frees its zlib state)
    h.drop();
    throw e;
  } finally {
    w.close();
  }
  return { diffId: await h.digest(), entries: w.entries, size };
}

async function* counting(src: AsyncIterable<Uint8Array>, count: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    count(c.byteLength);
    yield c;
  }
}

/** Gives each chunk to `h` once the consumer asks for the next (or the stream ends). */
async function* hashed(src: AsyncIterable<Uint8Array>, h: Sha256Stream): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    yield c;
    h.give(c);
  }
}
