import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "./config.ts";
import { defaultSpec } from "./spec-default.ts";

describe("defaultSpec()", () => {
  test("round-trips through parseConfig unchanged", () => {
    const spec = defaultSpec();
    expect(parseConfig(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  test("rootless variant round-trips through parseConfig unchanged", () => {
    const spec = defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1000 });
    expect(parseConfig(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  test("has runc's defaults", () => {
    const s = defaultSpec();
    expect(s.ociVersion).toBe("1.2.0");
    expect(s.process?.args).toEqual(["sh"]);
    expect(s.process?.terminal).toBe(true);
    expect(s.process?.capabilities?.bounding).toEqual(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    expect(s.process?.rlimits).toEqual([{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }]);
    expect(s.mounts?.map((m) => m.destination)).toEqual(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]);
    expect(s.linux?.namespaces?.map((n) => n.type)).toEqual(["pid", "network", "ipc", "uts", "mount", "cgroup"]);
  });

  test("rootless: user namespace mapping the given ids, no network namespace, no cgroup limits", () => {
    const s = defaultSpec({ rootless: true, hostUid: 1234, hostGid: 5678 });
    expect(s.linux?.namespaces?.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount", "cgroup", "user"]);
    expect(s.linux?.uidMappings).toEqual([{ containerID: 0, hostID: 1234, size: 1 }]);
    expect(s.linux?.gidMappings).toEqual([{ containerID: 0, hostID: 5678, size: 1 }]);
    expect(s.linux?.resources).toBeUndefined();
    expect(s.mounts?.find((m) => m.destination === "/sys")).toEqual({
      destination: "/sys",
      type: "none",
      source: "/sys",
      options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
    });
    expect(s.mounts?.find((m) => m.destination === "/dev/pts")?.options).not.toContain("gid=5");
  });

  test("returns a fresh object each call", () => {
    const a = defaultSpec();
    a.process!.args.push("x");
    a.linux!.maskedPaths!.push("/x");
    expect(defaultSpec().process?.args).toEqual(["sh"]);
    expect(defaultSpec().linux?.maskedPaths).not.toContain("/x");
  });
});

const runc = Bun.which("runc");

/** `runc spec` output, normalised for what legitimately differs between runc releases. */
function runcSpec(args: string[]): { spec: Record<string, any>; cgroupNs: boolean } {
  const dir = mkdtempSync(join(tmpdir(), "pelagos-runc-spec-"));
  try {
    const r = Bun.spawnSync([runc!, "spec", ...args], { cwd: dir, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`runc spec failed: ${r.stderr.toString()}`);
    const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    const version = Bun.spawnSync([runc!, "--version"]).stdout.toString();
    const [, major, minor] = /runc version (\d+)\.(\d+)/.exec(version) ?? [];
    // ociVersion is whatever runtime-spec the runc build vendored ("1.0.2-dev" for runc 1.1).
    spec.ociVersion = "1.2.0";
    // runc < 1.2 also set ambient caps, which never took effect without inheritable ones (runc #4367).
    if (Number(major) === 1 && Number(minor) < 2) delete spec.process.capabilities.ambient;
    // runc adds the cgroup namespace only on cgroup v2 hosts.
    const cgroupNs = spec.linux.namespaces.some((n: { type: string }) => n.type === "cgroup");
    return { spec, cgroupNs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(runc === null)("defaultSpec() against the installed runc", () => {
  test("equals `runc spec`, key order included", () => {
    const { spec, cgroupNs } = runcSpec([]);
    expect(JSON.stringify(defaultSpec({ cgroupNamespace: cgroupNs }))).toBe(JSON.stringify(spec));
  });

  test("equals `runc spec --rootless`, key order included", () => {
    const { spec, cgroupNs } = runcSpec(["--rootless"]);
    expect(JSON.stringify(defaultSpec({ rootless: true, cgroupNamespace: cgroupNs }))).toBe(JSON.stringify(spec));
  });

  test("`runc spec` output parses", () => {
    expect(() => parseConfig(runcSpec([]).spec)).not.toThrow();
  });
});

if (runc === null) test.skip("defaultSpec() against runc: runc is not installed on this machine", () => {});
