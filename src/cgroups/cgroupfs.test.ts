import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { hostCgroupFs } from "./cgroupfs.ts";

test("writeEach: one open file, one write per value; a missing file is ENOENT naming the value", () => {
  const dir = mkdtempSync(`${tmpdir()}/pelagos-cgfs-`);
  try {
    writeFileSync(`${dir}/devices.allow`, "");
    hostCgroupFs.writeEach!(`${dir}/devices.allow`, ["c 1:3 rwm", "|c 1:5 rwm"]);
    expect(readFileSync(`${dir}/devices.allow`, "utf8")).toBe("c 1:3 rwm|c 1:5 rwm");
    expect(() => hostCgroupFs.writeEach!(`${dir}/missing`, ["a 1:1 r"])).toThrow(/Cannot write "a 1:1 r" to .*missing.*ENOENT/);
    // a write that fails after one that worked: the error names that value and its index
    // (this process's own oom_score_adj: its current value is written back unchanged, then "x" is EINVAL)
    const adj = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
    let err: unknown;
    try {
      hostCgroupFs.writeEach!("/proc/self/oom_score_adj", [adj, "x"]);
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/Cannot write "x" to .*EINVAL/);
    expect((err as { details?: { index?: number } }).details?.index).toBe(1);
    expect(readFileSync("/proc/self/oom_score_adj", "utf8").trim()).toBe(adj);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
