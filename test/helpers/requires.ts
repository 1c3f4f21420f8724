/**
 * Capability-based skips. A test that cannot run on this host says why and is
 * counted as skipped, never as passed:
 *
 *   itIf(requires("root", "runc"), "runc runs the probe", async () => { ... });
 *
 * With PELAGOS_REQUIRE_ALL=1 (e.g. in CI on a host known to have everything), a
 * missing feature fails the test instead of skipping it.
 */
import { describe, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { PELAGOS_BIN } from "./pelagos.ts";

export type Feature = "root" | "userns" | "cgroup2-pure" | "cgroup-hybrid" | "busybox" | "runc" | "crun" | "qemu" | "cc" | "pelagos";

const memo = new Map<Feature, string | null>();

/** null when every feature is present, else the reasons joined. */
export function requires(...features: Feature[]): string | null {
  const reasons: string[] = [];
  for (const f of features) {
    if (!memo.has(f)) memo.set(f, check(f));
    const r = memo.get(f);
    if (r) reasons.push(r);
  }
  return reasons.length > 0 ? reasons.join("; ") : null;
}

function check(f: Feature): string | null {
  switch (f) {
    case "root":
      return process.getuid?.() === 0 ? null : "needs root";
    case "userns":
      return usernsReason();
    case "cgroup2-pure":
      return cgroupMode() === "unified" ? null : `needs a pure cgroup v2 host (this one is ${cgroupMode()})`;
    case "cgroup-hybrid":
      return cgroupMode() === "hybrid" ? null : `needs a hybrid cgroup host (this one is ${cgroupMode()})`;
    case "busybox":
      return staticElfReason("/bin/busybox", "busybox-static");
    case "runc":
      return Bun.which(f) ? null : `needs ${f} in PATH (apt-get install ${f})`;
    case "crun":
      if (!Bun.which(f)) return `needs ${f} in PATH (apt-get install ${f})`;
      // "cgroups in hybrid mode not supported": bench/cold-start.ts works around it in a private mount ns.
      return cgroupMode() === "hybrid" ? "crun refuses hybrid cgroup hosts (this one is hybrid)" : null;
    case "qemu": {
      const bin = process.arch === "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
      return Bun.which(bin) ? null : `needs ${bin} (apt-get install qemu-system-${process.arch === "arm64" ? "arm" : "x86"})`;
    }
    case "cc":
      return Bun.which(process.env.CC ?? "cc") ? null : "needs a C compiler (apt-get install gcc libc6-dev)";
    case "pelagos":
      return isExecutable(PELAGOS_BIN) ? null : `needs the runtime binary "${PELAGOS_BIN}" (run: bun run build.ts)`;
  }
}

function isExecutable(p: string): boolean {
  try {
    return (statSync(p).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function usernsReason(): string | null {
  try {
    if (Number(readFileSync("/proc/sys/user/max_user_namespaces", "utf8")) === 0) return "user namespaces are disabled (user.max_user_namespaces=0)";
  } catch {
    return "user namespaces are not supported by this kernel";
  }
  if (!Bun.which("unshare")) return null;
  const r = Bun.spawnSync(["unshare", "--user", "true"], { stderr: "pipe" });
  return r.exitCode === 0 ? null : `cannot create a user namespace: ${r.stderr.toString().trim()}`;
}

/** "unified" (cgroup2 at /sys/fs/cgroup), "hybrid" (v1 + cgroup2 elsewhere), "legacy" or "none". */
export function cgroupMode(): "unified" | "hybrid" | "legacy" | "none" {
  let v1 = false;
  let v2 = false;
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    const type = f[sep + 1];
    if (f[4] === "/sys/fs/cgroup" && type === "cgroup2") return "unified";
    if (type === "cgroup2") v2 = true;
    if (type === "cgroup") v1 = true;
  }
  return v1 && v2 ? "hybrid" : v1 ? "legacy" : v2 ? "hybrid" : "none";
}

/** A static ELF has no PT_INTERP program header. */
function staticElfReason(path: string, pkg: string): string | null {
  if (!existsSync(path)) return `needs ${path} (apt-get install ${pkg})`;
  const b = readFileSync(path);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return `${path} is not a 64-bit ELF file`;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return `${path} is dynamically linked (apt-get install ${pkg})`;
  }
  return null;
}

type TestFn = () => void | Promise<unknown>;

/** test() when skipReason is null, else test.skip() with the reason in its name. */
export function itIf(skipReason: string | null, name: string, fn: TestFn, timeoutMs?: number): void {
  if (skipReason === null) return void test(name, fn, timeoutMs);
  if (process.env.PELAGOS_REQUIRE_ALL === "1") {
    return void test(name, () => {
      throw new Error(`Missing requirement (PELAGOS_REQUIRE_ALL=1): ${skipReason}`);
    });
  }
  test.skip(`${name} [skipped: ${skipReason}]`, fn);
}

/** describe() whose tests are all skipped with the reason when skipReason is not null. */
export function describeIf(skipReason: string | null, name: string, fn: () => void): void {
  if (skipReason === null) return void describe(name, fn);
  if (process.env.PELAGOS_REQUIRE_ALL === "1") {
    return void describe(name, () =>
      test("requirements", () => {
        throw new Error(`Missing requirement (PELAGOS_REQUIRE_ALL=1): ${skipReason}`);
      }),
    );
  }
  describe.skip(`${name} [skipped: ${skipReason}]`, fn);
}
