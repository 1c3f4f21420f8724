import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { gunzip, loadZlib } from "./gunzip.ts";

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

/** Collects the output, copying each view (they are reused buffers). */
async function all(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const data = Buffer.concat([randomBytes(3 << 20), Buffer.from("lorem ipsum ".repeat(400_000))]);
const gz = gzipSync(data);

describe.skipIf(!loadZlib())("gunzip()", () => {
  for (const size of [1, 7, 4096, 1 << 20, gz.length])
    test(`inflates a stream fed in ${size}-byte chunks`, async () => {
      const src = size === 1 ? gz.subarray(0, 5000) : gz;
      if (size === 1) {
        // byte by byte through the header and the first blocks: only the prefix is fed, so the stream is truncated
        await expect(all(gunzip(chunks(src, 1)))).rejects.toMatchObject({ code: "Z_BUF_ERROR" });
        return;
      }
      expect((await all(gunzip(chunks(src, size)))).equals(data)).toBe(true);
    });

  test("concatenated members are one stream; bytes after the last member are ignored but read", async () => {
    const a = Buffer.from("first member\n"), b = Buffer.from("second member\n");
    let read = 0;
    const src = Buffer.concat([gzipSync(a), gzipSync(b), Buffer.from([0, 0, 0, 0, 1, 2, 3])]);
    const counted = async function* () {
      for await (const c of chunks(src, 5)) {
        read += c.byteLength;
        yield c;
      }
    };
    expect((await all(gunzip(counted()))).toString()).toBe("first member\nsecond member\n");
    expect(read).toBe(src.length);
  });

  test("a truncated stream is Z_BUF_ERROR, an empty one too", async () => {
    await expect(all(gunzip(chunks(gz.subarray(0, gz.length - 10), 65536)))).rejects.toMatchObject({ code: "Z_BUF_ERROR" });
    await expect(all(gunzip(chunks(new Uint8Array(0), 1)))).rejects.toMatchObject({ code: "Z_BUF_ERROR" });
  });

  test("corrupt data is Z_DATA_ERROR", async () => {
    const bad = Buffer.from(gz);
    bad.fill(0x55, 100, 400);
    await expect(all(gunzip(chunks(bad, 65536)))).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
    await expect(all(gunzip(chunks(Buffer.from("not gzip at all"), 4)))).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
  });

  test("a consumer that stops early releases the stream", async () => {
    for await (const c of gunzip(chunks(gz, 65536))) {
      expect(c.byteLength).toBeGreaterThan(0);
      break;
    }
  });
});
