import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, UsageError } from "../errors.ts";
import { compileSeccomp } from "./compile.ts";
import { loadSeccompProfileFile } from "./load-file.ts";
import { parseSeccompProfile } from "./profile-schema.ts";
import { verdict } from "./test-helpers.ts";

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const base = { defaultAction: "SCMP_ACT_ERRNO" };

describe("parseSeccompProfile", () => {
  test("accepts the OCI shape", () => {
    const p = parseSeccompProfile({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 1,
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      flags: ["SECCOMP_FILTER_FLAG_LOG"],
      listenerPath: "/run/seccomp.sock",
      listenerMetadata: "meta",
      syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, valueTwo: 0, op: "SCMP_CMP_EQ" }] }],
    });
    expect(p.syscalls?.[0]?.args?.[0]?.value).toBe(1n);
    expect(p.listenerPath).toBe("/run/seccomp.sock");
  });

  test("accepts Docker's legacy single `name`, comments and nulls", () => {
    const p = parseSeccompProfile({
      ...base,
      archMap: [{ architecture: "SCMP_ARCH_AARCH64", subArchitectures: null }],
      syscalls: [{ name: "read", action: "SCMP_ACT_ALLOW", args: null, comment: "legacy", includes: {}, excludes: {} }],
    });
    const r = compileSeccomp(p, { arch: "x64", capabilities: [] });
    expect(verdict(r.filter, "x86_64", "read")).toBe("ALLOW");
  });

  test("64-bit values: bigint and decimal or hex strings are exact; unsafe JSON numbers are refused", () => {
    const p = parseSeccompProfile({
      ...base,
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: "0xffffffffffffffff", op: "SCMP_CMP_EQ" }] },
        { names: ["write"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 18446744073709551615n, op: "SCMP_CMP_EQ" }] },
      ],
    });
    expect(p.syscalls?.[0]?.args?.[0]?.value).toBe(0xffffffffffffffffn);
    expect(p.syscalls?.[1]?.args?.[0]?.value).toBe(0xffffffffffffffffn);
    const e = errorOf(() =>
      parseSeccompProfile({ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 2 ** 60 + 1, op: "SCMP_CMP_EQ" }] }] }),
    );
    expect(e.path).toBe("linux.seccomp.syscalls[0].args[0].value");
    expect(e.message).toContain("write it as a string");
  });

  test("errors carry the JSON path of the bad field", () => {
    const cases: [unknown, string][] = [
      [{ defaultAction: "SCMP_ACT_NOPE" }, "linux.seccomp.defaultAction"],
      [{}, "linux.seccomp.defaultAction"],
      [
        {
          ...base,
          syscalls: [
            { names: ["a"], action: "SCMP_ACT_ALLOW" },
            { names: ["b"], action: "SCMP_ACT_ALLOW" },
            { names: ["c"], action: "SCMP_ACT_ALLOW" },
            { names: ["d"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_SOMETIMES" }] },
          ],
        },
        "linux.seccomp.syscalls[3].args[0].op",
      ],
      [{ ...base, syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] }] }, "linux.seccomp.syscalls[0].args[0].index"],
      [{ ...base, syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }] }] }, "linux.seccomp.syscalls[0].args[0].value"],
      [{ ...base, syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }] }, "linux.seccomp.syscalls[0].errnoRet"],
      [{ ...base, syscalls: [{ names: ["a"], action: "SCMP_ACT_ERRNO", errnoRet: 70000 }] }, "linux.seccomp.syscalls[0].errnoRet"],
      [{ ...base, syscalls: [{ name: "a", names: ["b"], action: "SCMP_ACT_ALLOW" }] }, "linux.seccomp.syscalls[0]"],
      [{ ...base, syscalls: [{ action: "SCMP_ACT_ALLOW" }] }, "linux.seccomp.syscalls[0].names"],
      [{ ...base, syscalls: [{ names: ["write"], action: "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.syscalls[0].action"],
      [{ defaultAction: "SCMP_ACT_NOTIFY" }, "linux.seccomp.defaultAction"],
      [{ defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 1 }, "linux.seccomp.defaultErrnoRet"],
      [{ ...base, flags: ["SECCOMP_FILTER_FLAG_MAGIC"] }, "linux.seccomp.flags[0]"],
      [{ ...base, architectures: ["x86_64"] }, "linux.seccomp.architectures[0]"],
      [{ ...base, architectures: ["SCMP_ARCH_X86"], archMap: [{ architecture: "SCMP_ARCH_X86_64" }] }, "linux.seccomp"],
      [{ ...base, syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "four" } }] }, "linux.seccomp.syscalls[0].includes.minKernel"],
    ];
    for (const [raw, path] of cases) expect(errorOf(() => parseSeccompProfile(raw)).path).toBe(path);
  });

  test("messages name the path and the problem", () => {
    const e = errorOf(() => parseSeccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }] }, "spec.linux.seccomp"));
    expect(e.message).toBe('Invalid config at spec.linux.seccomp.syscalls[0].errnoRet: Cannot set an errno for "SCMP_ACT_ALLOW"');
  });
});

describe("loadSeccompProfileFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "pelagos-seccomp-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a missing file is a UsageError naming the path", () => {
    const path = join(dir, "nope.json");
    expect(() => loadSeccompProfileFile(path)).toThrow(UsageError);
    expect(() => loadSeccompProfileFile(path)).toThrow(`Cannot read seccomp profile "${path}": no such file`);
  });

  test("bad JSON is a ConfigError naming the file", () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, "{ \"defaultAction\": ");
    const e = errorOf(() => loadSeccompProfileFile(path));
    expect(e.path).toBe(path);
    expect(e.message).toContain("Cannot parse seccomp profile as JSON");
  });

  test("schema errors use the file as the root of the path", () => {
    const path = join(dir, "wrong.json");
    writeFileSync(path, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["a"], action: "ALLOW" }] }));
    expect(errorOf(() => loadSeccompProfileFile(path)).path).toBe(`${path}.syscalls[0].action`);
  });

  test("integers above 2^53 in the file stay exact", () => {
    const path = join(dir, "big.json");
    writeFileSync(
      path,
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}',
    );
    const p = loadSeccompProfileFile(path);
    expect(p.syscalls?.[0]?.args?.[0]?.value).toBe(0xffffffffffffffffn);
    const f = compileSeccomp(p, { arch: "x64", capabilities: [] }).filter;
    expect(verdict(f, "x86_64", "ioctl", [0, 0xffffffffffffffffn])).toBe("ALLOW");
    expect(verdict(f, "x86_64", "ioctl", [0, 0xfffffffffffffffen])).toBe("ERRNO(1)");
  });
});
