import { expect, test } from "bun:test";
import { allowsEverything, deviceFilterProgram } from "./device-filter.ts";

const hex = (b: Uint8Array) => [...Array(b.length / 8).keys()].map((i) => Buffer.from(b.subarray(i * 8, i * 8 + 8)).toString("hex"));

// Load ctx into r2 (type), r3 (access), r4 (major), r5 (minor).
const PROLOGUE = ["6112000000000000", "54020000ffff0000", "6113000000000000", "7403000010000000", "6114040000000000", "6115080000000000"];

test("deny all, then allow c 1:3 rwm: last rule tested first, wildcard deny ends the program", () => {
  const prog = deviceFilterProgram([
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  ]);
  expect(hex(prog)).toEqual([
    ...PROLOGUE,
    "5502040002000000", // if r2 != CHAR goto +4
    "5504030001000000", // if r4 != 1 goto +3
    "5505020003000000", // if r5 != 3 goto +2
    "b400000001000000", // r0 = 1
    "9500000000000000", // exit
    "b400000000000000", // r0 = 0 (the "a" deny rule)
    "9500000000000000",
  ]);
});

test("access subset and any minor; no wildcard → default deny appended", () => {
  const prog = deviceFilterProgram([{ allow: true, type: "b", major: 8, access: "r" }]);
  expect(hex(prog)).toEqual([
    ...PROLOGUE,
    "5502060001000000", // if r2 != BLOCK goto +6
    "bc31000000000000", // r1 = r3
    "5401000002000000", // r1 &= READ
    "5d31030000000000", // if r1 != r3 goto +3
    "5504020008000000", // if r4 != 8 goto +2
    "b400000001000000",
    "9500000000000000",
    "b400000000000000", // default: deny
    "9500000000000000",
  ]);
});

test("rules before a wildcard are unreachable and not emitted", () => {
  const prog = deviceFilterProgram([{ allow: true, type: "c", major: 1, minor: 3 }, { allow: true }]);
  expect(hex(prog)).toEqual([...PROLOGUE, "b400000001000000", "9500000000000000"]);
});

test("allowsEverything and bad access", () => {
  expect(allowsEverything([{ allow: false }, { allow: true, type: "a", access: "rwm" }])).toBe(true);
  expect(allowsEverything([{ allow: true, type: "c" }])).toBe(false);
  expect(() => deviceFilterProgram([{ allow: true, access: "rx" }])).toThrow(/invalid access "rx"/);
});
