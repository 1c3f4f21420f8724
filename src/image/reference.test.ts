import { describe, expect, test } from "bun:test";
import { familiarName, formatReference, isLoopbackRegistry, parseReference } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference()", () => {
  test.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["user/app:v1", "docker.io/user/app:v1"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest"],
    ["localhost:5000/x", "localhost:5000/x:latest"],
    ["localhost/x:y", "localhost/x:y"],
    ["127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000/a/b/c:t"],
    ["quay.io/org/img", "quay.io/org/img:latest"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`ghcr.io/a/b:1@${D}`, `ghcr.io/a/b:1@${D}`],
    ["[::1]:5000/x", "[::1]:5000/x:latest"],
  ])("%s → %s", (input, want) => {
    expect(formatReference(parseReference(input))).toBe(want);
  });

  test.each(["", "Busybox", "a//b", "x:", "x@sha256:zz", "-a", "a/b:t t", "a:/b"])("rejects %p", (input) => {
    expect(() => parseReference(input)).toThrow(/Invalid image reference/);
  });

  test("familiar names drop docker.io/library", () => {
    expect(familiarName(parseReference("busybox"))).toBe("busybox");
    expect(familiarName(parseReference("user/app"))).toBe("user/app");
    expect(familiarName(parseReference("localhost:5000/x"))).toBe("localhost:5000/x");
  });

  test("loopback registries", () => {
    expect(isLoopbackRegistry("localhost:5000")).toBe(true);
    expect(isLoopbackRegistry("127.0.0.1:41234")).toBe(true);
    expect(isLoopbackRegistry("[::1]:5000")).toBe(true);
    expect(isLoopbackRegistry("docker.io")).toBe(false);
    expect(isLoopbackRegistry("127.evil.com")).toBe(false);
  });
});
