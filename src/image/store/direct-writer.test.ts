import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, statSync, write, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { SysError } from "../../../ffi/errno.ts";
import { isDirect } from "../../../ffi/direct-io.ts";
import { DirectWriter, DIRECT_MIN, O_DIRECT, openMaybeDirect, type PositionedIo } from "./direct-writer.ts";

// Made in beforeAll, not at load: a file whose tests are all filtered out (-t) runs no afterAll.
let tmp = "";
beforeAll(() => void (tmp = mkdtempSync("/var/tmp/pelagos-direct-test-")));
afterAll(() => tmp && rmSync(tmp, { recursive: true, force: true }));
const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

/** Writes `data` in chunks of `size` through one DirectWriter, returns what landed in the file. */
async function roundTrip(w: DirectWriter, name: string, data: Uint8Array, size: number): Promise<Buffer> {
  const path = `${tmp}/${name}`;
  const [fd] = openMaybeDirect((f) => openSync(path, f, 0o644), FLAGS, () => rmSync(path, { force: true }));
  try {
    w.begin(fd, true);
    for (let i = 0; i < data.length; i += size) await w.write(data.subarray(i, i + size));
    await w.end();
  } finally {
    await w.settle();
    closeSync(fd);
  }
  expect(statSync(path).size).toBe(data.length);
  return readFileSync(path);
}

describe("DirectWriter", () => {
  test("writes sizes around the staging and alignment boundaries intact, reusing one writer", async () => {
    const w = new DirectWriter();
    const sizes = [0, 1, 4095, 4096, 4097, DIRECT_MIN, (2 << 20) - 1, 2 << 20, (2 << 20) + 1, 5 * (1 << 20) + 12345];
    for (const [i, n] of sizes.entries()) {
      const data = randomBytes(n);
      for (const chunk of [777, 65536, 3 << 20]) expect((await roundTrip(w, `f${i}-${chunk}`, data, chunk)).equals(data)).toBe(true);
    }
  });

  test("a buffered file (direct = false) is written as is", async () => {
    const w = new DirectWriter();
    const path = `${tmp}/plain`;
    const fd = openSync(path, FLAGS, 0o644);
    const data = randomBytes(100_000);
    w.begin(fd, false);
    expect(w.write(data.subarray(0, 3))).toBeUndefined(); // buffered writes never wait
    expect(w.write(data.subarray(3))).toBeUndefined();
    await w.end();
    closeSync(fd);
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  test("a file system that takes O_DIRECT at open but refuses a direct write (EINVAL): O_DIRECT is cleared, the file is intact", async () => {
    // The refusal is injected (no local file system here does it): the first positioned write of an O_DIRECT fd fails.
    let refused = 0;
    const einval = () => Object.assign(new Error("EINVAL"), { code: "EINVAL" });
    const io: PositionedIo = {
      write: ((fd: number, buf: Uint8Array, off: number, len: number, pos: number, cb: (e: Error | null, n: number) => void) => {
        if (isDirect(fd) && refused++ === 0) return void queueMicrotask(() => cb(einval(), 0));
        write(fd, buf, off, len, pos, cb);
      }) as unknown as PositionedIo["write"],
      writeSync,
    };
    for (const size of [(3 << 20) + 12345, 5 << 20]) {
      refused = 0;
      const path = `${tmp}/refused-${size}`;
      const [fd, direct] = openMaybeDirect((f) => openSync(path, f, 0o644), FLAGS, () => rmSync(path, { force: true }));
      expect(direct).toBe(true);
      const w = new DirectWriter(io);
      const data = randomBytes(size);
      try {
        w.begin(fd, true);
        for (let i = 0; i < data.length; i += 300_000) await w.write(data.subarray(i, i + 300_000));
        await w.end();
      } finally {
        await w.settle();
      }
      expect(refused).toBeGreaterThan(0);
      expect(isDirect(fd)).toBe(false);
      closeSync(fd);
      expect(readFileSync(path).equals(data)).toBe(true);
    }
  });

  test("openMaybeDirect retries without O_DIRECT after EINVAL, removing what the first open created", () => {
    const seen: number[] = [];
    let removed = 0;
    const [fd, direct] = openMaybeDirect(
      (f) => {
        seen.push(f);
        if (seen.length === 1) throw new SysError("openat", 22);
        return 42;
      },
      FLAGS,
      () => removed++,
    );
    expect([fd, direct, removed, seen.length]).toEqual([42, false, 1, 2]);
    expect(seen[1]).toBe(FLAGS);
  });

  test("a failed write surfaces at the next write or at end(), after every write has settled", async () => {
    const path = `${tmp}/ro`;
    closeSync(openSync(path, FLAGS, 0o644));
    const fd = openSync(path, constants.O_RDONLY | O_DIRECT);
    const w = new DirectWriter();
    w.begin(fd, true);
    let err: unknown;
    try {
      for (let i = 0; i < 8; i++) await w.write(new Uint8Array(1 << 20));
      await w.end();
    } catch (e) {
      err = e;
    } finally {
      await w.settle();
      closeSync(fd);
    }
    expect((err as { code?: string }).code).toBe("EBADF");
  });
});
