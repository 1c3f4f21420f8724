import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../errors.ts";
import { parseConfig, parseConfigText, requireProcess } from "./config.ts";
import { defaultSpec } from "./spec-default.ts";
import { fullConfig } from "./testdata/full-config.ts";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig() accepts", () => {
  test("the runc default spec, unchanged", () => {
    const spec = defaultSpec();
    expect(parseConfig(structuredClone(spec))).toEqual(spec);
  });

  test("a config that sets every field, unchanged", () => {
    const raw = fullConfig();
    expect(parseConfig(structuredClone(raw)) as unknown).toEqual(raw);
  });

  test("a minimal config without process (process is only needed to create)", () => {
    const c = parseConfig({ ociVersion: "1.0.2-dev", root: { path: "/rootfs" } });
    expect(c.process).toBeUndefined();
    expect(configError(() => requireProcess(c)).message).toBe("Invalid config at process: is required to create a container");
  });

  test("requireProcess() returns the config when process is present", () => {
    const c = parseConfig(defaultSpec());
    expect(requireProcess(c).process.args).toEqual(["sh"]);
  });

  test("unknown fields anywhere, by dropping them", () => {
    const raw = fullConfig();
    raw.vendorExtension = { a: 1 };
    raw.process.futureField = true;
    raw.process.user.sid = "S-1-5";
    raw.mounts[0].futureMountField = [1];
    raw.linux.futureLinux = {};
    raw.linux.resources.memory.futureKnob = 7;
    raw.linux.seccomp.syscalls[0].comment = "allow io";
    raw.windows = { layerFolders: [] };
    const c = parseConfig(raw) as Record<string, any>;
    expect(c.vendorExtension).toBeUndefined();
    expect(c.windows).toBeUndefined();
    expect(c.process.futureField).toBeUndefined();
    expect(c.mounts[0].futureMountField).toBeUndefined();
    expect(c.linux.resources.memory.futureKnob).toBeUndefined();
    expect(c).toEqual(fullConfig());
  });

  test("RLIM_INFINITY (2^64-1, rounded by JSON to 2^64)", () => {
    const c = parseConfigText(
      '{"ociVersion":"1.2.0","root":{"path":"r"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/",' +
        '"rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615}]}}',
      "config.json",
    );
    expect(c.process?.rlimits?.[0]?.hard).toBe(2 ** 64);
  });

  test("uid 4294967294, the largest valid id", () => {
    const raw = fullConfig();
    raw.process.user.uid = 4294967294;
    expect(parseConfig(raw).process?.user.uid).toBe(4294967294);
  });

  test("an id map whose last id is 4294967294", () => {
    const raw = fullConfig();
    raw.linux.uidMappings = [{ containerID: 0, hostID: 4294967290, size: 5 }];
    expect(parseConfig(raw).linux?.uidMappings?.[0]?.size).toBe(5);
  });

  test("hostname with a uts namespace joined by path", () => {
    const raw = defaultSpec();
    raw.linux!.namespaces = [{ type: "uts", path: "/proc/1/ns/uts" }];
    expect(parseConfig(raw).hostname).toBe("runc");
  });
});

describe("parseConfigText()", () => {
  test("reports JSON syntax errors with the file name and no stack", () => {
    const e = configError(() => parseConfigText('{"ociVersion": "1.2.0",', "/b/config.json"));
    expect(e.path).toBe("");
    expect(e.code).toBe("E_CONFIG");
    expect(e.message).toMatch(/^Invalid config: cannot parse "\/b\/config\.json" as JSON: \S/);
    expect(e.message).not.toContain("JSON Parse error");
    expect(e.message).not.toContain("\n");
  });

  test("reports an empty file", () => {
    expect(configError(() => parseConfigText("", "c.json")).message).toStartWith('Invalid config: cannot parse "c.json" as JSON: ');
  });

  test("validates what it parsed", () => {
    const e = configError(() => parseConfigText('{"ociVersion":"2.0.0","root":{"path":"r"}}', "c.json"));
    expect(e.message).toBe('Invalid config at ociVersion: must be a 1.x runtime-spec version like "1.2.0", got "2.0.0"');
  });
});

test("parseConfig() rejects a non-object document", () => {
  expect(configError(() => parseConfig([])).message).toBe("Invalid config: must be an object, got an array");
  expect(configError(() => parseConfig(null)).message).toBe("Invalid config: must be an object, got null");
});

test("parseConfig() parses the runc default config in well under a millisecond", () => {
  const raw = defaultSpec();
  for (let i = 0; i < 1000; i++) parseConfig(raw);
  const n = 1000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) parseConfig(raw);
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`parseConfig(runc default): ${us.toFixed(1)} µs per parse`);
  expect(us).toBeLessThan(500);
});
