import { expect, test } from "bun:test";
import { blkioWeightToIoWeight, devNumbers, parseBytes, sharesToWeight, swapToV2 } from "./convert.ts";

test("cpu shares → cpu.weight (runc/crun formula)", () => {
  expect(sharesToWeight(2)).toBe(1);
  expect(sharesToWeight(1024)).toBe(39); // 1 + (1022 * 9999) / 262142 = 39.98 → 39
  expect(sharesToWeight(512)).toBe(20);
  expect(sharesToWeight(262144)).toBe(10000);
  expect(sharesToWeight(0)).toBe(0);
  expect(sharesToWeight(1)).toBe(1); // clamped to the v1 minimum
});
test("blkio weight → io.weight", () => {
  expect(blkioWeightToIoWeight(10)).toBe(1);
  expect(blkioWeightToIoWeight(500)).toBe(4950);
  expect(blkioWeightToIoWeight(1000)).toBe(10000);
});
test("memory+swap → memory.swap.max", () => {
  expect(swapToV2(undefined, 100)).toBeUndefined();
  expect(swapToV2(300, 100)).toBe(200);
  expect(swapToV2(100, 100)).toBe(0);
  expect(swapToV2(-1, 100)).toBe(-1);
  expect(swapToV2(undefined, -1)).toBe(-1);
  expect(() => swapToV2(50, 100)).toThrow(/at least the memory limit/);
  expect(() => swapToV2(50, undefined)).toThrow(/without a memory limit/);
});
test("sizes", () => {
  expect(parseBytes("512m")).toBe(512 * 1024 * 1024);
  expect(parseBytes("1g")).toBe(1024 ** 3);
  expect(parseBytes("1.5GB")).toBe(1.5 * 1024 ** 3);
  expect(parseBytes("100")).toBe(100);
  expect(() => parseBytes("12x")).toThrow(/invalid size/);
});
test("dev_t decoding", () => {
  expect(devNumbers(0x0803)).toEqual({ major: 8, minor: 3 });
  expect(devNumbers(0x10300)).toEqual({ major: 259, minor: 0 }); // nvme: major 259
});
