import { describe, expect, test } from "bun:test";
import { parsePlatform, platformMatches, selectManifest } from "./platform.ts";

const d = (architecture: string, variant?: string, os = "linux") => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${architecture.padEnd(64, "0").replace(/[^a-f0-9]/g, "0")}`,
  size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

describe("platforms", () => {
  test("parsePlatform() normalises aliases and arm64's default variant", () => {
    expect(parsePlatform("linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("linux/aarch64")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("linux/arm/v7")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
    expect(() => parsePlatform("amd64")).toThrow(/os\/arch/);
  });
  test("arm64 without a variant matches v8", () => {
    expect(platformMatches({ os: "linux", architecture: "arm64" }, parsePlatform("linux/arm64"))).toBe(true);
    expect(platformMatches({ os: "linux", architecture: "arm", variant: "v6" }, parsePlatform("linux/arm/v7"))).toBe(false);
  });
  test("selectManifest() prefers the exact variant and explains a miss", () => {
    const list = [d("amd64"), d("arm", "v6"), d("arm", "v7"), d("amd64", undefined, "windows")];
    expect(selectManifest(list, parsePlatform("linux/arm/v7"), "x")).toBe(list[2]!);
    expect(selectManifest(list, parsePlatform("linux/amd64"), "x")).toBe(list[0]!);
    expect(() => selectManifest(list, parsePlatform("linux/s390x"), "image x")).toThrow(/offers linux\/amd64, linux\/arm\/v6/);
  });
});
