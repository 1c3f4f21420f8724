import { describe, expect, test } from "bun:test";
import { mergeEnv, parseEnvEntry, parseTmpfs, parseVolume } from "./run-options.ts";

describe("run options", () => {
  test("a bare -e NAME copies the caller's value, or is dropped", () => {
    expect(parseEnvEntry("FOO", "--env", { FOO: "bar" })).toBe("FOO=bar");
    expect(parseEnvEntry("FOO", "--env", {})).toBeUndefined();
    expect(() => parseEnvEntry("=x", "--env", {})).toThrow("empty");
  });
  test("later env entries win and PATH gets docker's default", () => {
    const e = mergeEnv(["A=1", "A=2"]);
    expect(e).toContain("A=2");
    expect(e.find((x) => x.startsWith("PATH="))).toBe("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  });
  test("volumes need an absolute existing host path and an absolute target", () => {
    expect(parseVolume("/tmp:/data:ro")).toEqual({ source: "/tmp", destination: "/data", options: ["ro"] });
    expect(() => parseVolume("rel:/data")).toThrow("absolute");
    expect(() => parseVolume("/tmp:data")).toThrow("absolute");
    expect(() => parseVolume("/nonexistent-xyz:/data")).toThrow("does not exist");
    expect(() => parseVolume("/tmp:/data:bogus")).toThrow('unknown option "bogus"');
    expect(() => parseVolume("/tmp:/a/../b")).toThrow("..");
  });
  test("tmpfs defaults to nosuid,nodev,noexec", () => {
    expect(parseTmpfs("/run:size=1m")).toEqual({ destination: "/run", options: ["nosuid", "nodev", "noexec", "size=1m"] });
  });
});
