import { describe, expect, test } from "bun:test";
import { checkMapped, parseIdMap, parseUserns, pickRange, rangesInUse, subIdRanges } from "./userns.ts";

describe("user namespace options", () => {
  test("--userns modes", () => {
    expect(parseUserns(undefined, [], [])).toEqual({ mode: "host" });
    expect(parseUserns("host", [], [])).toEqual({ mode: "host" });
    expect(parseUserns("auto", [], [])).toEqual({ mode: "auto", size: 65536 });
    expect(parseUserns("auto:size=1000", [], [])).toEqual({ mode: "auto", size: 1000 });
    expect(parseUserns("private", [], [])).toEqual({ mode: "auto", size: 65536 });
    expect(() => parseUserns("keep-id", [], [])).toThrow('Invalid --userns "keep-id"');
  });
  test("--uidmap/--gidmap (podman syntax); the gid map defaults to the uid map", () => {
    expect(parseUserns(undefined, ["0:100000:65536"], [])).toEqual({
      mode: "private", uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
    });
    expect(() => parseIdMap("0:1", "--uidmap")).toThrow("CONTAINER_ID:HOST_ID:SIZE");
    expect(() => parseIdMap("0:1:0", "--uidmap")).toThrow("empty");
    expect(() => parseUserns(undefined, ["0:100000:10", "5:200000:10"], [])).toThrow("overlap");
    expect(() => parseUserns("host", ["0:100000:10"], [])).toThrow("--userns private");
  });
  test("/etc/subuid entries and free ranges", () => {
    const text = "alice:100000:65536\npelagos:200000:196608\n# junk\nroot:1000000:65536\n";
    expect(subIdRanges(text, "pelagos")).toEqual([{ start: 200000, count: 196608 }]);
    expect(subIdRanges(text, "nobody")).toEqual([]);
    const used = rangesInUse(["0 0 4294967295\n", "         0     200000      65536\n"]);
    expect(used).toEqual([{ start: 200000, count: 65536 }]);
    expect(pickRange([{ start: 200000, count: 196608 }], used, 65536)).toBe(265536);
    expect(pickRange([{ start: 200000, count: 65536 }], used, 65536)).toBeUndefined();
    expect(pickRange([{ start: 100000, count: 65536 }], [], 65536)).toBe(100000);
  });
  test("the container's user must be mapped", () => {
    expect(() => checkMapped([{ containerID: 0, hostID: 1, size: 10 }], [1000], "uid", "--uidmap")).toThrow("uid 1000 is not mapped");
    expect(() => checkMapped([{ containerID: 0, hostID: 1, size: 1001 }], [1000], "uid", "--uidmap")).not.toThrow();
  });
});
