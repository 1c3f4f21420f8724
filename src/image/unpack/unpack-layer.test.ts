import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, existsSync, mkdirSync, statSync } from "node:fs";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { tar } from "../../../test/helpers/tar-writer.ts";
import { lgetxattr } from "../../../ffi/fs.ts";
import { unpackLayer } from "./unpack-layer.ts";

const root = process.getuid?.() === 0;
const tmp = mkdtempSync("/var/tmp/pelagos-unpack-test-");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function* chunks(b: Uint8Array, size = 777): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

let n = 0;
function dest(): string {
  const d = `${tmp}/l${n++}`;
  mkdirSync(d);
  return d;
}

describe.skipIf(!root)("unpackLayer()", () => {
  test("writes files, dirs, links, devices, modes, owners, times, xattrs", async () => {
    const d = dest();
    const long = `deep/${"x".repeat(120)}/file`;
    const t = tar([
      { name: "./", type: "dir", mode: 0o755 },
      { name: "bin/", type: "dir" },
      { name: "bin/su", data: "suid", mode: 0o4755, uid: 0, gid: 0, mtime: 1_600_000_000 },
      { name: "home/u/f", data: "owned", uid: 1000, gid: 1001, mode: 0o640 },
      { name: "bin/sh", type: "symlink", linkname: "/bin/busybox", uid: 5, gid: 6 },
      { name: "bin/hl", type: "hardlink", linkname: "bin/su" },
      { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "run/fifo", type: "fifo", mode: 0o600 },
      { name: long, data: "pax long", xattrs: { "user.k": "v" } },
      { name: `gnu/${"y".repeat(150)}`, data: "gnu long", longNames: "gnu" },
    ]);
    const r = await unpackLayer(chunks(gzipSync(t)), "gzip", d);
    expect(r.diffId).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(t).digest("hex")}`);
    expect(r.entries).toBe(10);
    expect(statSync(`${d}/bin/su`).mode & 0o7777).toBe(0o4755);
    expect(statSync(`${d}/bin/su`).mtimeMs).toBe(1_600_000_000_000);
    expect(statSync(`${d}/home/u/f`).uid).toBe(1000);
    expect(statSync(`${d}/home/u/f`).gid).toBe(1001);
    expect(statSync(`${d}/home`).mode & 0o777).toBe(0o755);
    expect(readlinkSync(`${d}/bin/sh`)).toBe("/bin/busybox");
    expect(lstatSync(`${d}/bin/sh`).uid).toBe(5);
    expect(statSync(`${d}/bin/hl`).ino).toBe(statSync(`${d}/bin/su`).ino);
    expect(lstatSync(`${d}/dev/null`).isCharacterDevice()).toBe(true);
    expect(lstatSync(`${d}/dev/null`).rdev).toBe(statSync("/dev/null").rdev);
    expect(lstatSync(`${d}/run/fifo`).isFIFO()).toBe(true);
    expect(readFileSync(`${d}/${long}`, "utf8")).toBe("pax long");
    expect(new TextDecoder().decode(lgetxattr(`${d}/${long}`, "user.k"))).toBe("v");
    expect(readFileSync(`${d}/gnu/${"y".repeat(150)}`, "utf8")).toBe("gnu long");
    expect(statSync(`${d}/bin`).mtimeMs).toBe(1_700_000_000_000);
  });

  test("converts whiteouts and opaque directories to overlay format", async () => {
    const d = dest();
    const t = tar([
      { name: "etc/.wh.gone", data: "" },
      { name: "var/", type: "dir" },
      { name: "var/.wh..wh..opq", data: "" },
      { name: "var/keep", data: "k" },
    ]);
    await unpackLayer(chunks(zstdCompressSync(t)), "zstd", d);
    const st = lstatSync(`${d}/etc/gone`);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0);
    expect(existsSync(`${d}/etc/.wh.gone`)).toBe(false);
    expect(new TextDecoder().decode(lgetxattr(`${d}/var`, "trusted.overlay.opaque"))).toBe("y");
    expect(existsSync(`${d}/var/.wh..wh..opq`)).toBe(false);
    expect(readFileSync(`${d}/var/keep`, "utf8")).toBe("k");
  });

  test("nothing is written outside the layer", async () => {
    const outside = `${tmp}/outside-${n}`;
    mkdirSync(outside);
    const d = dest();
    const t = tar([
      { name: "esc", type: "symlink", linkname: outside },
      { name: "esc/f1", data: "through absolute symlink" },
      { name: "rel", type: "symlink", linkname: "../../../../../../.." },
      { name: `rel${outside}/f2`, data: "through relative symlink" },
      { name: "a", type: "symlink", linkname: outside },
      { name: "a/", type: "dir" },
      { name: "a/f3", data: "symlink replaced by a dir" },
    ]);
    await unpackLayer(chunks(t), "none", d);
    expect(existsSync(`${outside}/f1`)).toBe(false);
    expect(existsSync(`${outside}/f2`)).toBe(false);
    expect(existsSync(`${outside}/f3`)).toBe(false);
    expect(readFileSync(`${d}${outside}/f1`, "utf8")).toBe("through absolute symlink");
    expect(readFileSync(`${d}${outside}/f2`, "utf8")).toBe("through relative symlink");
    expect(lstatSync(`${d}/a`).isDirectory()).toBe(true);
    expect(readFileSync(`${d}/a/f3`, "utf8")).toBe("symlink replaced by a dir");
  });

  test.each([
    [[{ name: "../evil", data: "x" }], /outside the layer/],
    [[{ name: "a/../../evil", data: "x" }], /outside the layer/],
    [[{ name: "x", type: "hardlink" as const, linkname: "../../etc/passwd" }], /outside the layer/],
    [[{ name: "x", type: "hardlink" as const, linkname: "etc/passwd" }], /not in this layer/],
  ])("refuses %j", async (entries, err) => {
    await expect(unpackLayer(chunks(tar(entries)), "none", dest())).rejects.toThrow(err);
  });

  test("a later entry replaces an earlier one; a file replaced by a directory", async () => {
    const d = dest();
    const t = tar([
      { name: "f", data: "one" },
      { name: "f", data: "two" },
      { name: "g", data: "file" },
      { name: "g/", type: "dir" },
      { name: "g/h", data: "inside" },
    ]);
    await unpackLayer(chunks(t), "none", d);
    expect(readFileSync(`${d}/f`, "utf8")).toBe("two");
    expect(readFileSync(`${d}/g/h`, "utf8")).toBe("inside");
  });

  test("parents are resolved again after a directory on the path is replaced (symlink, then directory)", async () => {
    const d = dest();
    const t = tar([
      { name: "x/", type: "dir" },
      { name: "p/", type: "dir" },
      { name: "p/a", data: "in p" },
      { name: "p", type: "symlink", linkname: "x" },
      { name: "p/b", data: "through the link" },
      { name: "p/", type: "dir", mode: 0o750 },
      { name: "p/c", data: "in the new p" },
      { name: "p/c", type: "symlink", linkname: "a" },
      { name: "p/c", data: "file again" },
      { name: "p/.wh.c" },
      { name: "p/d", type: "hardlink", linkname: "x/b" },
    ]);
    await unpackLayer(chunks(t), "none", d);
    expect(lstatSync(`${d}/p`).isDirectory()).toBe(true);
    expect(readFileSync(`${d}/x/b`, "utf8")).toBe("through the link");
    expect(existsSync(`${d}/x/a`)).toBe(false);
    expect(lstatSync(`${d}/p/c`).isCharacterDevice()).toBe(true);
    expect(statSync(`${d}/p/d`).ino).toBe(statSync(`${d}/x/b`).ino);
    expect(statSync(`${d}/p`).mode & 0o7777).toBe(0o750);
  });

  test("a big file (written with O_DIRECT) and its unaligned tail arrive intact", async () => {
    const d = dest();
    const big = new Uint8Array((3 << 20) + 12345);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 13)) & 0xff;
    const t = tar([{ name: "big", data: big, mode: 0o640, uid: 7, gid: 8 }, { name: "small", data: "s" }]);
    await unpackLayer(chunks(gzipSync(t), 100_000), "gzip", d);
    expect(readFileSync(`${d}/big`).equals(Buffer.from(big))).toBe(true);
    const st = statSync(`${d}/big`);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 7, 8]);
  });

  test("rejects a corrupt header", async () => {
    const t = tar([{ name: "f", data: "x" }]);
    t[0] = 0x7a;
    await expect(unpackLayer(chunks(t), "none", dest())).rejects.toThrow(/checksum/);
  });
});
