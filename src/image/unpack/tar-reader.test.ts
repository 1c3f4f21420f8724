import { describe, expect, test } from "bun:test";
import { parsePax, readTar, type TarEntry } from "./tar-reader.ts";
import { tar } from "../../../test/helpers/tar-writer.ts";

async function entries(b: Uint8Array, chunk = 100): Promise<(TarEntry & { body: string })[]> {
  const out: (TarEntry & { body: string })[] = [];
  async function* src() {
    for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
  }
  await readTar(src(), async (e, body) => {
    let s = "";
    for await (const c of body) s += new TextDecoder().decode(c);
    out.push({ ...e, body: s });
  });
  return out;
}

describe("readTar()", () => {
  test("pax records keep binary values and handle multi-digit lengths", () => {
    const m = parsePax(new TextEncoder().encode("30 mtime=1700000000.123456789\n20 SCHILY.xattr.a=\u0001\n"));
    expect(new TextDecoder().decode(m.get("mtime"))).toBe("1700000000.123456789");
    expect([...m.get("SCHILY.xattr.a")!]).toEqual([1]);
  });

  test("reads bodies across chunk boundaries, skips unread bodies", async () => {
    const t = tar([{ name: "a", data: "x".repeat(1000) }, { name: "b", data: "yy" }, { name: "d/", type: "dir" }]);
    const es = await entries(t, 7);
    expect(es.map((e) => [e.name, e.type, e.size, e.body.length])).toEqual([["a", "file", 1000, 1000], ["b", "file", 2, 2], ["d/", "dir", 0, 0]]);
    const names: string[] = [];
    await readTar((async function* () { yield t; })(), (e) => { names.push(e.name); });
    expect(names).toEqual(["a", "b", "d/"]);
  });

  test("base-256 numbers (GNU) for big uids", async () => {
    const t = tar([{ name: "f", data: "" }]);
    t.fill(0, 108, 116);
    t[108] = 0x80;
    t.set([0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00], 109); // uid 2^24... in base 256
    let sum = 0;
    t.fill(32, 148, 156);
    for (let i = 0; i < 512; i++) sum += t[i]!;
    t.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
    const [e] = await entries(t);
    expect(e!.uid).toBe(0x01000000);
  });

  test("pax mtime with nanoseconds, long link names", async () => {
    const long = `target/${"z".repeat(150)}`;
    const es = await entries(tar([{ name: "l", type: "symlink", linkname: long }, { name: "g", type: "symlink", linkname: long, longNames: "gnu" }]));
    expect(es.map((e) => e.linkname)).toEqual([long, long]);
  });
});
