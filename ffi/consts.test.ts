import { expect, test } from "bun:test";
import * as K from "./consts.ts";
import * as fs from "./fs.ts";
import * as sys from "./sys.ts";

test("O_DIRECTORY and O_NOFOLLOW follow the architecture (aarch64's differ from x86_64's)", () => {
  const want = process.arch === "arm64" ? { dir: 0o40000, nofollow: 0o100000 } : { dir: 0o200000, nofollow: 0o400000 };
  for (const m of [K, fs, sys]) {
    expect(m.O_DIRECTORY).toBe(want.dir);
    expect(m.O_NOFOLLOW).toBe(want.nofollow);
  }
});
