import { describe, expect, test } from "bun:test";
import { parseChallenge } from "./auth.ts";
import { parseMirrors } from "./mirrors.ts";
import { classifyFetchError } from "./http.ts";

describe("parseChallenge()", () => {
  test("Docker Hub's bearer challenge", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" },
    });
  });
  test("basic, unquoted values, commas and escapes inside quotes", () => {
    expect(parseChallenge('Basic realm="a, \\"b\\""')).toEqual({ scheme: "basic", params: { realm: 'a, "b"' } });
    expect(parseChallenge("Bearer realm=http://x/t, service=s")).toEqual({ scheme: "bearer", params: { realm: "http://x/t", service: "s" } });
  });
  test("garbage", () => {
    expect(parseChallenge("")).toBeUndefined();
  });
});

describe("parseMirrors()", () => {
  test("the [mirrors] table", () => {
    const m = parseMirrors(`[network]\nx = 1\n[mirrors]\n"docker.io" = ["http://m:5000", "mirror.example.com"] # comment\nquay.io = ['q:1',]\n`);
    expect([...m]).toEqual([
      ["docker.io", ["http://m:5000", "mirror.example.com"]],
      ["quay.io", ["q:1"]],
    ]);
  });
  test("errors name the line", () => {
    expect(() => parseMirrors(`[mirrors]\n"docker.io" = "m"\n`, "r.toml")).toThrow(/r\.toml:2/);
  });
});

describe("classifyFetchError()", () => {
  test("TLS failures are E_TLS with a hint", () => {
    const e = classifyFetchError(Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }), "https://r.example:5000/v2/");
    expect(e.code).toBe("E_TLS");
    expect(e.message).toContain("--insecure");
  });
  test("connection refused is E_NETWORK", () => {
    expect(classifyFetchError(Object.assign(new Error("refused"), { code: "ConnectionRefused" }), "http://127.0.0.1:1/v2/").code).toBe("E_NETWORK");
  });
});
