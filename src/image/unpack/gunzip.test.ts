import { describe, expect, test } from "bun:test";
import { deflateRawSync, gzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { gunzip, gzipHeaderLength, loadZlib } from "./gunzip.ts";

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
  for (const size of [7, 4096, 1 << 20, gz.length])
    test(`inflates a stream fed in ${size}-byte chunks`, async () => {
      expect((await all(gunzip(chunks(gz, size)))).equals(data)).toBe(true);
    });

  test("inflates a stream fed byte by byte (header, blocks and trailer split everywhere)", async () => {
    const small = Buffer.concat([randomBytes(3000), Buffer.from("lorem ipsum ".repeat(2000))]);
    expect((await all(gunzip(chunks(gzipSync(small), 1)))).equals(small)).toBe(true);
  });

  test("a stream that ends inside a member is Z_BUF_ERROR", async () => {
    await expect(all(gunzip(chunks(gz.subarray(0, 5000), 1)))).rejects.toMatchObject({ code: "Z_BUF_ERROR" });
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

  test("a corrupt header or deflate structure is Z_DATA_ERROR", async () => {
    await expect(all(gunzip(chunks(Buffer.from("not gzip at all"), 4)))).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
    const badMethod = Buffer.from(gz);
    badMethod[2] = 7;
    await expect(all(gunzip(chunks(badMethod, 65536)))).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
    const badBlock = Buffer.from(gzipSync(Buffer.from("lorem ipsum ".repeat(1000))));
    badBlock[10] = 0xff; // first deflate block header: type 3 (reserved)
    await expect(all(gunzip(chunks(badBlock, 65536)))).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
  });

  test("the CRC is not checked: corrupt stored data comes out changed (the caller's diff_id catches it)", async () => {
    const bad = Buffer.from(gz);
    bad.fill(0x55, 100, 400); // inside the first stored (incompressible) block
    const out = await all(gunzip(chunks(bad, 65536)));
    expect(out.length).toBe(data.length);
    expect(out.equals(data)).toBe(false);
  });

  test("headers with FEXTRA, FNAME, FCOMMENT and FHCRC, split anywhere", async () => {
    const body = Buffer.from("named member\n");
    const head = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3]),
      Buffer.from([5, 0]), Buffer.from("extra"),
      Buffer.from("file.tar\0"), Buffer.from("a comment\0"), Buffer.from([0xaa, 0xbb]),
    ]);
    const member = Buffer.concat([head, deflateRawSync(body), Buffer.alloc(8)]);
    expect(gzipHeaderLength(head)).toBe(head.length);
    for (let i = 1; i < head.length; i++) expect(gzipHeaderLength(head.subarray(0, i))).toBe(-1);
    for (const size of [1, 3, 16, member.length])
      expect((await all(gunzip(chunks(Buffer.concat([member, gzipSync(body)]), size)))).toString()).toBe("named member\nnamed member\n");
  });

  test("a consumer that stops early releases the stream", async () => {
    for await (const c of gunzip(chunks(gz, 65536))) {
      expect(c.byteLength).toBeGreaterThan(0);
      break;
    }
  });
});
