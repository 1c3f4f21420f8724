import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { sha256Stream, stopHelperThread, syncStore } from "./hash-offload.ts";
import { takeBuffer } from "./store/buffer-pool.ts";
import { isAligned } from "../../ffi/direct-io.ts";

// These tests are about the helper thread, which is off by default: turn it on for this file
// (read when the first stream asks for it). With PELAGOS_HASH_THREAD=0 they run inline.
process.env.PELAGOS_HASH_THREAD ??= "1";

const sha = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

describe("sha256Stream()", () => {
  for (const offload of [true, false])
    test(`${offload ? "on the worker" : "inline"}: chunks (owned, views, pooled) hash in order`, async () => {
      const data = new Uint8Array(randomBytes(5 << 20)); // a Buffer's slice() is a view: plain Uint8Array here
      const h = sha256Stream(offload);
      const streams = [sha256Stream(offload), sha256Stream(offload)]; // interleaved streams stay apart
      let off = 0;
      const sizes = [1, 4096, 100_000, 1 << 20, 3, 777_777];
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(sizes[i % sizes.length]!, data.length - off);
        const part = data.subarray(off, off + n);
        if (i % 3 === 0) await h.give(part.slice()); // owns its buffer: transferred
        else if (i % 3 === 1) await h.give(i % 2 ? part : Buffer.from(part.buffer, part.byteOffset, n)); // views (a Buffer too): copied
        else {
          const pooled = takeBuffer();
          const k = Math.min(n, pooled.byteLength);
          pooled.set(part.subarray(0, k));
          await h.give(pooled.subarray(0, k), pooled);
          if (k < n) await h.give(part.subarray(k).slice());
        }
        for (const s of streams) await s.give(new Uint8Array([i & 0xff]));
        off += n;
      }
      expect(await h.digest()).toBe(sha(data));
      const small = await Promise.all(streams.map((s) => s.digest()));
      expect(small[0]).toBe(small[1]!);
    });

  test("pooled buffers come back aligned and reusable", async () => {
    const h = sha256Stream(true);
    const b = takeBuffer();
    const size = b.byteLength;
    b.fill(1);
    await h.give(b, b);
    if (process.env.PELAGOS_HASH_THREAD === "1") expect(b.byteLength).toBe(0); // transferred
    await h.digest();
    const again = takeBuffer();
    expect(isAligned(again)).toBe(true);
    expect(again.byteLength).toBe(size);
  });

  test("an empty stream has the empty digest; drop() ends a stream without one", async () => {
    expect(await sha256Stream(true).digest()).toBe(sha(new Uint8Array(0)));
    const d = sha256Stream(true);
    await d.give(new Uint8Array([1, 2, 3]));
    d.drop();
  });

  test("syncStore() syncs the file system of a path on the helper thread; a missing path is an error", async () => {
    await syncStore("/var/tmp");
    let err: unknown;
    try {
      await syncStore("/var/tmp/pelagos-no-such-dir-for-sure");
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/Cannot sync the image store: ENOENT/);
  });

  test("stopHelperThread() fails what is pending (nothing keeps the process alive) and the next stream starts a new thread", async () => {
    const left = sha256Stream(true);
    await left.give(new Uint8Array([1]));
    const pending = left.digest().then(
      () => "resolved",
      () => "rejected",
    );
    stopHelperThread();
    expect(["resolved", "rejected"]).toContain(await pending);
    const h = sha256Stream(true);
    await h.give(new Uint8Array([1, 2, 3]));
    expect(await h.digest()).toBe(sha(new Uint8Array([1, 2, 3])));
  });
});
