import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { randomHex, sha256Hex } from "./random.ts";

describe("random", () => {
  test("sha256Hex matches node:crypto", () => {
    for (const s of ["", "/run/pelagos", "x".repeat(1000)]) expect(sha256Hex(s)).toBe(createHash("sha256").update(s).digest("hex"));
  });
  test("randomHex gives 2n hex characters, different each time", () => {
    expect(randomHex(4)).toMatch(/^[0-9a-f]{8}$/);
    expect(randomHex(6)).not.toBe(randomHex(6));
  });
});
