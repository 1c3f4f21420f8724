import { expect, test } from "bun:test";
import { isSystemdPath, resolvePlacement } from "./placement.ts";

test("default parent pelagos", () => {
  expect(resolvePlacement({ id: "abc" })).toEqual({ rel: "pelagos/abc", parentDepth: 1 });
});
test("--cgroup-parent, absolute or relative", () => {
  expect(resolvePlacement({ id: "abc", parent: "/ci/jobs" })).toEqual({ rel: "ci/jobs/abc", parentDepth: 2 });
  expect(resolvePlacement({ id: "abc", parent: "mine" })).toEqual({ rel: "mine/abc", parentDepth: 1 });
});
test("OCI cgroupsPath absolute and relative", () => {
  expect(resolvePlacement({ id: "x", cgroupsPath: "/a/b/c" })).toEqual({ rel: "a/b/c", parentDepth: 2 });
  expect(resolvePlacement({ id: "x", cgroupsPath: "b/c" })).toEqual({ rel: "pelagos/b/c", parentDepth: 1 });
  expect(resolvePlacement({ id: "x", parent: "ignored", cgroupsPath: "/only" })).toEqual({ rel: "only", parentDepth: 0 });
});
test("systemd form is recognised with a clear error", () => {
  expect(isSystemdPath("system.slice:docker:abc")).toBe(true);
  expect(isSystemdPath(":pelagos:abc")).toBe(true);
  expect(isSystemdPath("/a/b")).toBe(false);
  expect(() => resolvePlacement({ id: "x", cgroupsPath: "system.slice:pelagos:x" })).toThrow(/systemd is not running/);
  expect(() => resolvePlacement({ id: "x", cgroupsPath: "system.slice:pelagos:x", systemdRunning: true })).toThrow(/no systemd cgroup driver/);
});
test("bad paths and ids", () => {
  expect(() => resolvePlacement({ id: "x", cgroupsPath: "/a/../b" })).toThrow(/\.\./);
  expect(() => resolvePlacement({ id: "x", parent: "../up" })).toThrow(/\.\./);
  expect(() => resolvePlacement({ id: "a/b" })).toThrow(/container id/);
  expect(() => resolvePlacement({ id: "x", cgroupsPath: "/" })).toThrow(/root cgroup/);
});
