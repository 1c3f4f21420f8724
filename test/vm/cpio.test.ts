import { expect, test } from "bun:test";
import { cpioNewc } from "./cpio.ts";

/** Reads a newc archive back: [name, mode, data]. */
function parse(buf: Uint8Array): [string, number, string][] {
  const out: [string, number, string][] = [];
  const text = Buffer.from(buf);
  let off = 0;
  for (;;) {
    expect(text.toString("latin1", off, off + 6)).toBe("070701");
    const field = (i: number) => Number.parseInt(text.toString("latin1", off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1), size = field(6), namesize = field(11);
    const name = text.toString("latin1", off + 110, off + 110 + namesize - 1);
    off += 110 + namesize;
    off += (4 - (off % 4)) % 4;
    const data = text.toString("latin1", off, off + size);
    off += size + ((4 - (size % 4)) % 4);
    if (name === "TRAILER!!!") break;
    out.push([name, mode, data]);
  }
  expect(buf.length % 512).toBe(0);
  return out;
}

test("newc entries round-trip with 4-byte alignment", () => {
  const a = cpioNewc([
    { kind: "dir", path: "/etc" },
    { kind: "file", path: "/etc/x", data: Buffer.from("hello"), mode: 0o600 },
    { kind: "symlink", path: "/bin/sh", target: "busybox" },
    { kind: "chardev", path: "/dev/console", major: 5, minor: 1 },
  ]);
  expect(parse(a)).toEqual([
    ["etc", 0o040755, ""],
    ["etc/x", 0o100600, "hello"],
    ["bin/sh", 0o120777, "busybox"],
    ["dev/console", 0o020600, ""],
  ]);
});
