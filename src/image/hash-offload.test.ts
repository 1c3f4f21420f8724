import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { LIMIT, hashesOffThread, queuedBytes, sha256Stream, syncStore } from "./hash-offload.ts";
import { takeBuffer } from "./store/buffer-pool.ts";
import { isAligned } from "../../ffi/direct-io.ts";
import { nativeSha } from "../../ffi/native/index.ts";

const sha = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;
const saved = process.env.PELAGOS_NATIVE;
afterEach(() => {
  if (saved === undefined) delete process.env.PELAGOS_NATIVE;
  else process.env.PELAGOS_NATIVE = saved;
});

// The native thread needs x86-64 with SHA-NI and the shared object from `bun run build.ts`.
const native = nativeSha() !== undefined;
const why = native ? "" : " (skipped: no native SHA-256 thread here: not x86-64 with SHA-NI, or build.ts did not embed it)";

describe("the native SHA-256 code (ffi/native)", () => {
  test.skipIf(!native)(`matches BoringSSL for every length up to 300 and random splits of 5 MB${why}`, () => {
    const s = nativeSha()!;
    const data = new Uint8Array(randomBytes(5 << 20));
    for (let len = 0; len <= 300; len++) {
      const ctx = s.open()!;
      s.updateHere(ctx, data, len);
      const out = new Uint8Array(32);
      s.finish(ctx, out);
      expect(`sha256:${Buffer.from(out).toString("hex")}`).toBe(sha(data.subarray(0, len)));
    }
    for (let t = 0; t < 40; t++) {
      const len = Math.floor(Math.random() * data.length);
      const ctx = s.open()!;
      let last = 0;
      for (let off = 0; off < len; ) {
        const n = Math.min(len - off, 1 + Math.floor(Math.random() * (t % 2 ? 130 : 300_000)));
        last = s.submit(ctx, data.subarray(off, off + n), n);
        off += n;
      }
      s.wait(last);
      const out = new Uint8Array(32);
      s.finish(ctx, out);
      expect(`sha256:${Buffer.from(out).toString("hex")}`).toBe(sha(data.subarray(0, len)));
    }
  });
});

describe("sha256Stream()", () => {
  for (const mode of ["native thread", "inline"] as const)
    test.skipIf(mode === "native thread" && !native)(`${mode}: chunks (owned, views, pooled) hash in order; interleaved streams stay apart${mode === "inline" ? "" : why}`, async () => {
      process.env.PELAGOS_NATIVE = mode === "inline" ? "0" : "1";
      expect(hashesOffThread()).toBe(mode !== "inline");
      const data = new Uint8Array(randomBytes(5 << 20));
      const h = sha256Stream();
      const streams = [sha256Stream(), sha256Stream()];
      let off = 0;
      const sizes = [1, 4096, 100_000, 1 << 20, 3, 777_777, 0];
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(sizes[i % sizes.length]!, data.length - off);
        const part = data.subarray(off, off + n);
        if (i % 3 === 0) h.give(part.slice());
        else if (i % 3 === 1) h.give(i % 2 ? part : Buffer.from(part.buffer, part.byteOffset, n));
        else {
          const pooled = takeBuffer();
          const k = Math.min(n, pooled.byteLength);
          pooled.set(part.subarray(0, k));
          h.give(pooled.subarray(0, k), pooled);
          if (k < n) h.give(part.subarray(k).slice());
        }
        for (const s of streams) s.give(new Uint8Array([i & 0xff]));
        off += n;
      }
      expect(await h.digest()).toBe(sha(data));
      const small = await Promise.all(streams.map((s) => s.digest()));
      expect(small[0]).toBe(small[1]!);
    });

  test.skipIf(!native)(`native thread: a pooled buffer is held until hashed, then back in the pool, aligned${why}`, async () => {
    const h = sha256Stream();
    const b = takeBuffer();
    const size = b.byteLength;
    b.fill(1);
    h.give(b, b);
    expect(await h.digest()).toBe(sha(new Uint8Array(size).fill(1)));
    expect(queuedBytes()).toBe(0);
    const again = takeBuffer();
    expect(again).toBe(b); // the same buffer, back from the hasher
    expect(isAligned(again)).toBe(true);
    expect(again.byteLength).toBe(size);
  });

  test.skipIf(!native)(`native thread: never more than LIMIT bytes queued${why}`, async () => {
    const h = sha256Stream();
    const chunk = new Uint8Array(1 << 20);
    let most = 0;
    for (let i = 0; i < 3 * (LIMIT >> 20); i++) {
      h.give(chunk);
      most = Math.max(most, queuedBytes());
    }
    expect(most).toBeLessThanOrEqual(LIMIT);
    expect(await h.digest()).toBe(sha(new Uint8Array(3 * LIMIT)));
    expect(queuedBytes()).toBe(0);
  });

  for (const mode of ["native thread", "inline"] as const)
    test.skipIf(mode === "native thread" && !native)(`${mode}: "free" frees a chunk that is all of its buffer once hashed, never a view${mode === "inline" ? "" : why}`, async () => {
      process.env.PELAGOS_NATIVE = mode === "inline" ? "0" : "1";
      const h = sha256Stream();
      const whole = new Uint8Array(100_000).fill(7);
      const big = new Uint8Array(10).fill(9);
      const view = big.subarray(2, 6);
      h.give(whole, "free");
      h.give(view, "free");
      const want = sha(Buffer.concat([new Uint8Array(100_000).fill(7), new Uint8Array(4).fill(9)]));
      expect(await h.digest()).toBe(want);
      expect(whole.byteLength).toBe(0); // detached: its memory is free
      expect(view.byteLength).toBe(4);
      expect(big.byteLength).toBe(10);
    });

  test("an empty stream has the empty digest; drop() ends a stream without one; a dropped stream takes nothing more", async () => {
    expect(await sha256Stream().digest()).toBe(sha(new Uint8Array(0)));
    const d = sha256Stream();
    d.give(new Uint8Array([1, 2, 3]));
    d.drop();
    d.drop();
    if (native) expect(() => d.give(new Uint8Array([4]))).toThrow(/after its end/);
    expect(queuedBytes()).toBe(0);
  });

  for (const mode of ["native thread", "inline"] as const)
    test.skipIf(mode === "native thread" && !native)(`${mode}: syncStore() syncs the file system of a path; a missing path is an error${mode === "inline" ? "" : why}`, async () => {
      process.env.PELAGOS_NATIVE = mode === "inline" ? "0" : "1";
      await syncStore("/var/tmp");
      let err: unknown;
      try {
        await syncStore("/var/tmp/pelagos-no-such-dir-for-sure");
      } catch (e) {
        err = e;
      }
      expect(String(err)).toMatch(/Cannot sync the image store: ENOENT/);
      expect((err as { code?: string }).code).toBe("ENOENT"); // kept: a full or failing disk becomes E_STORE
    });
});
