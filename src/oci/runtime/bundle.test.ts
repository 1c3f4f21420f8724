import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, PelagosError } from "../../errors.ts";
import { loadBundleConfig } from "./bundle.ts";
import { defaultSpec } from "./spec-default.ts";

let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pelagos-bundle-"));
  mkdirSync(join(dir, "good"));
  writeFileSync(join(dir, "good", "config.json"), JSON.stringify(defaultSpec()));
  symlinkSync(join(dir, "good"), join(dir, "link"));
  mkdirSync(join(dir, "empty"));
  mkdirSync(join(dir, "broken"));
  writeFileSync(join(dir, "broken", "config.json"), '{"ociVersion": ');
  writeFileSync(join(dir, "file"), "");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function pelagosError(fn: () => unknown): PelagosError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PelagosError) return e;
    throw e;
  }
  throw new Error("expected a PelagosError");
}

describe("loadBundleConfig()", () => {
  test("returns the parsed config and the absolute, resolved bundle path", () => {
    const { config, bundle } = loadBundleConfig(join(dir, "link"));
    expect(bundle).toBe(join(dir, "good"));
    expect(config).toEqual(defaultSpec());
  });

  test("resolves a relative bundle path", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(loadBundleConfig("good").bundle).toBe(join(dir, "good"));
    } finally {
      process.chdir(cwd);
    }
  });

  test("reports a missing bundle", () => {
    const e = pelagosError(() => loadBundleConfig(join(dir, "nope")));
    expect(e.code).toBe("E_BUNDLE");
    expect(e.message).toBe(`Cannot open bundle "${join(dir, "nope")}": no such directory`);
  });

  test("reports a bundle that is a file", () => {
    const e = pelagosError(() => loadBundleConfig(join(dir, "file")));
    expect(e.code).toBe("E_BUNDLE");
    expect(e.message).toBe(`Cannot open bundle "${join(dir, "file")}": not a directory`);
  });

  test("reports a missing config.json", () => {
    const e = pelagosError(() => loadBundleConfig(join(dir, "empty")));
    expect(e.code).toBe("E_BUNDLE");
    expect(e.message).toBe(`Cannot read "${join(dir, "empty", "config.json")}": no such file`);
  });

  test("reports invalid JSON with the file name", () => {
    const e = pelagosError(() => loadBundleConfig(join(dir, "broken")));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toStartWith(`Invalid config: cannot parse "${join(dir, "broken", "config.json")}" as JSON: `);
  });
});
