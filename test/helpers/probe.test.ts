import { expect, test } from "bun:test";
import { decodeCaps, decodeSigMask, parseKv } from "./probe.ts";

test("parseKv() keeps everything after the first '=' and skips other lines", () => {
  expect(parseKv("a=1\nUid=0 0 0 0\nready\nenv=X=Y\n")).toEqual({ a: "1", Uid: "0 0 0 0", env: "X=Y" });
});

test("parseKv() copes with pty output: \\r\\n and stray control bytes", () => {
  expect(parseKv("\x00isatty0=1\r\nrows=24\r\n")).toEqual({ isatty0: "1", rows: "24" });
});

test("decodeCaps() names the bits of a /proc status mask", () => {
  expect(decodeCaps("00000000a80425fb").length).toBe(14);
  expect(decodeCaps("0000000020000420")).toEqual(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
  expect(decodeCaps("0000000000000000")).toEqual([]);
  expect(decodeCaps("8000000000000000")).toEqual(["CAP_63"]);
});

test("decodeSigMask() maps bit n to signal n+1", () => {
  expect(decodeSigMask("0000000000001000")).toEqual([13]);
  expect(decodeSigMask("0000000000014002")).toEqual([2, 15, 17]);
});
