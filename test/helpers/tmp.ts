/**
 * Temporary directories of one test run. Everything a run creates lives under
 * one base directory whose name carries the run token, so the leak checker and
 * concurrent runs on the same machine can tell whose leftovers are whose.
 *
 * The token is also exported as `PELAGOS_TEST_RUN` into the environment of every
 * process the helpers spawn and of every container made by makeBundle(), so a
 * leaked process can be attributed by its /proc/PID/environ.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const RUN_ENV = "PELAGOS_TEST_RUN";

/** Where built test rootfses are kept across runs (per user: root's cache is not writable by others). */
export const CACHE_DIR =
  process.env.PELAGOS_TEST_CACHE ?? (process.getuid?.() === 0 ? "/var/tmp/pelagos-test" : `/var/tmp/pelagos-test-${process.getuid?.()}`);

/** The repository root (test/helpers/../..). */
export const REPO_ROOT = resolve(import.meta.dir, "..", "..");

/** The runtime under test. */
export const PELAGOS_BIN = process.env.PELAGOS_BIN ?? join(REPO_ROOT, "dist/pelagos");

/** Token of this test run, shared by the preload and every test file of the run. */
export function runToken(): string {
  let t = process.env[RUN_ENV];
  if (!t) {
    t = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, "0")}`;
    process.env[RUN_ENV] = t;
  }
  return t;
}

/**
 * Removes run directories of test runs that died without cleaning up (killed,
 * interrupted): the token starts with the run's PID in base 36, and a directory
 * is only touched when that PID is gone and it has not changed for an hour.
 * Mounts left below one are detached before it is removed.
 */
export function pruneStaleRuns(): string[] {
  const removed: string[] = [];
  const hourAgo = Date.now() - 3600_000;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(RUN_BASE_PREFIX)) continue;
    const token = name.slice(RUN_BASE_PREFIX.length);
    const pid = parseInt(token.slice(0, -6), 36);
    const dir = join(tmpdir(), name);
    if (token === runToken() || !/^[0-9a-z]{7,}$/.test(token) || !(pid > 0) || existsSync(`/proc/${pid}`)) continue;
    try {
      if (statSync(dir).mtimeMs > hourAgo) continue;
      for (const m of mountsUnder(dir)) Bun.spawnSync(["umount", "-l", m], { stdout: "ignore", stderr: "ignore" });
      if (mountsUnder(dir).length > 0) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // raced with its owner or another pruner
    }
  }
  return removed;
}

/** Prefix shared by the base directories of all runs (used to ignore other runs' mounts). */
export const RUN_BASE_PREFIX = "pelagos-test-run-";

/** Path of this run's base directory (may not exist). */
export function runBasePath(): string {
  return join(tmpdir(), `${RUN_BASE_PREFIX}${runToken()}`);
}

/** The base directory of this run (created on first use). */
export function runBaseDir(): string {
  const dir = runBasePath();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** Where runCli() keeps captured output; removed by the preload at the end of the run. */
export const IO_DIR_NAME = "io";

export function ioDir(): string {
  const dir = join(runBaseDir(), IO_DIR_NAME);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fresh directory under the run's base directory. */
export function makeTempDir(prefix = "t"): string {
  return mkdtempSync(join(runBaseDir(), `${prefix}-`));
}

/** Mount points at or below `dir` in this process's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const base = resolve(dir);
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = line.split(" ")[4];
    if (mp === undefined) continue;
    const path = unescapeMountPath(mp);
    if (path === base || path.startsWith(`${base}/`)) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Removes a directory made by these helpers. Refuses paths outside the run's
 * base directory, and never recurses into a mount (rm -r would delete the
 * mounted content, e.g. a bind-mounted shared rootfs): mounts found below it are
 * detached first and reported in the returned list, so callers can fail.
 */
export function removeTempDir(dir: string): string[] {
  const base = resolve(runBasePath());
  const target = resolve(dir);
  if (!target.startsWith(`${base}/`) && target !== base) {
    throw new Error(`Refusing to remove "${target}": not under the test run directory "${base}"`);
  }
  if (!existsSync(target)) return [];
  const mounts = mountsUnder(target);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m], { stdout: "ignore", stderr: "ignore" });
  const still = mountsUnder(target);
  if (still.length > 0) {
    throw new Error(`Cannot remove "${target}": still mounted below it: ${still.join(", ")}`);
  }
  rmSync(target, { recursive: true, force: true });
  return mounts;
}
