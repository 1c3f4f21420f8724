/**
 * Test root filesystems and OCI bundles.
 *
 * busyboxRootfs() builds, once per machine, a minimal rootfs from Debian's static
 * /bin/busybox plus /probe, cached under /var/tmp/pelagos-test/ and keyed by a
 * hash of both binaries and ROOTFS_VERSION. It is built in a temp dir and renamed
 * into place, so concurrent runs either win the rename or use the winner's copy.
 *
 * The shared copy is used read-only by bundles (root.readonly: true) and must not
 * be modified: mount destinations must already exist in it (see SPARE_MOUNT_POINTS),
 * otherwise ask makeBundle() for a writable copy.
 */
import { afterAll, beforeAll } from "bun:test";
import {
  chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync,
  utimesSync, writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { baseSpec, type Hooks, type Mount, type Namespace, type OciConfig, type Process, type Linux } from "./oci-spec.ts";
import { probeBinary } from "./probe.ts";
import { verifyRootfs, writeManifest } from "./rootfs-manifest.ts";
import { CACHE_DIR, makeTempDir, removeTempDir, RUN_ENV, runToken } from "./tmp.ts";

export { CACHE_DIR };

/** Bump when the rootfs layout below changes. */
export const ROOTFS_VERSION = 1;
export const BUSYBOX = process.env.PELAGOS_BUSYBOX ?? "/bin/busybox";

/** Empty directories in the shared rootfs that tests may mount onto. */
export const SPARE_MOUNT_POINTS = ["/mnt", "/mnt/a", "/mnt/b", "/data", "/vol", "/tmp", "/run", "/var/tmp"];

const DIRS: [string, number][] = [
  ["bin", 0o755], ["sbin", 0o755], ["usr/bin", 0o755], ["usr/sbin", 0o755], ["etc", 0o755], ["proc", 0o555],
  ["sys", 0o555], ["dev", 0o755], ["run", 0o755], ["tmp", 0o1777], ["var/tmp", 0o1777], ["root", 0o700],
  ["home/app", 0o755], ["mnt/a", 0o755], ["mnt/b", 0o755], ["data", 0o755], ["vol", 0o755],
];

const FILES: Record<string, string> = {
  "etc/passwd":
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  "etc/group": "root:x:0:\ntty:x:5:\nusers:x:100:app\napp:x:1000:\nnogroup:x:65534:\n",
  "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
  "etc/hostname": "",
  "etc/resolv.conf": "",
};

let cached: Promise<string> | undefined;

/** Path of the shared busybox rootfs (built on first call). */
export function busyboxRootfs(): Promise<string> {
  cached ??= Promise.resolve().then(buildOrReuse);
  return cached;
}

function buildOrReuse(): string {
  if (!existsSync(BUSYBOX)) throw new Error(`Cannot build the test rootfs: "${BUSYBOX}" is missing (apt-get install busybox-static)`);
  const probe = probeBinary();
  const key = createHash("sha256")
    .update(readFileSync(BUSYBOX))
    .update(readFileSync(probe))
    .update(`v${ROOTFS_VERSION}`)
    .digest("hex")
    .slice(0, 16);
  const final = join(CACHE_DIR, `rootfs-busybox-${key}`);
  if (existsSync(final)) {
    if (!existsSync(`${final}.manifest`)) writeManifest(final, `${final}.manifest`);
    const diff = verifyRootfs(final);
    if (diff.length > 0) console.warn(`warning: the shared test rootfs "${final}" was modified since it was built: ${diff.join(", ")}`);
    try {
      const now = new Date();
      utimesSync(`${final}.manifest`, now, now); // "last used", for pruneCache()
    } catch {
      // someone else's cache (PELAGOS_TEST_CACHE): it is theirs to prune
    }
    return final;
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  pruneCache();
  const tmp = join(CACHE_DIR, `.build-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    populate(tmp, probe);
    // The manifest follows its own tree: a loser of the rename race must not overwrite the winner's.
    writeManifest(tmp, `${tmp}.manifest`);
    renameSync(tmp, final);
    renameSync(`${tmp}.manifest`, `${final}.manifest`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(`${tmp}.manifest`, { force: true });
    // Another run renamed its build into place first: use that one.
    if (!existsSync(final)) throw e;
  }
  return final;
}

/** Removes cached rootfses (e.g. built with an older probe) not used for a day. */
function pruneCache(): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of readdirSync(CACHE_DIR)) {
    if (!name.startsWith("rootfs-busybox-") || !name.endsWith(".manifest")) continue;
    const manifest = join(CACHE_DIR, name);
    if (statSync(manifest).mtimeMs > dayAgo) continue;
    rmSync(manifest.slice(0, -".manifest".length), { recursive: true, force: true });
    rmSync(manifest, { force: true });
  }
}

function populate(dir: string, probe: string): void {
  mkdirSync(dir, { mode: 0o755 });
  for (const [d, mode] of DIRS) {
    mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, d), mode);
  }
  try {
    chownSync(join(dir, "home/app"), 1000, 1000);
  } catch (e) {
    // Without root /home/app stays ours: fine for rootless runs, which cannot map 1000 anyway.
    if (process.getuid?.() === 0) throw e;
  }
  copyFileSync(BUSYBOX, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  copyFileSync(probe, join(dir, "probe"));
  chmodSync(join(dir, "probe"), 0o755);
  const list = Bun.spawnSync([BUSYBOX, "--list-full"]);
  if (list.exitCode !== 0) throw new Error(`Cannot list busybox applets: "${BUSYBOX} --list-full" failed`);
  for (const applet of list.stdout.toString().split("\n")) {
    if (!applet || applet === "bin/busybox" || applet.includes("..")) continue;
    const link = join(dir, applet);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync("/bin/busybox", link);
  }
  for (const [f, text] of Object.entries(FILES)) writeFileSync(join(dir, f), text, { mode: 0o644 });
}

/**
 * A private, writable copy of the busybox rootfs (`cp -a`), e.g. for the
 * docker-like `pelagos run --rootfs DIR` without --read-only, where the container
 * (or the runtime, creating mount points for -v/--tmpfs) writes into DIR.
 */
export async function rootfsCopy(): Promise<{ path: string; cleanup(): void }> {
  const shared = await busyboxRootfs();
  const dir = makeTempDir("rootfs");
  const path = join(dir, "rootfs");
  const cp = Bun.spawnSync(["cp", "-a", shared, path], { stderr: "pipe" });
  if (cp.exitCode !== 0) {
    removeTempDir(dir);
    throw new Error(`Cannot copy the rootfs to "${path}": ${cp.stderr.toString()}`);
  }
  return { path, cleanup: () => void removeTempDir(dir) };
}

export type BundleOptions = {
  /** process.args (default `/probe status`). */
  args?: string[];
  /** process.env; the run marker `PELAGOS_TEST_RUN=<token>` is appended unless markEnv is false. */
  env?: string[];
  markEnv?: boolean;
  cwd?: string;
  terminal?: boolean;
  user?: Process["user"];
  /** Hostname; null removes the field. */
  hostname?: string | null;
  /** Replaces the default mounts. */
  mounts?: Mount[];
  /** Appended to the (default or given) mounts. */
  extraMounts?: Mount[];
  /** Replaces linux.namespaces; strings are shorthand for `{ type }`. */
  namespaces?: (Namespace | string)[];
  hooks?: Hooks;
  /** root.readonly (default true, or false with writable). */
  readonly?: boolean;
  /** Copy the rootfs into the bundle (`cp -a`) so the container may change it. */
  writable?: boolean;
  /** Rootfs to use instead of busyboxRootfs(). */
  rootfs?: string;
  /** Shallow-merged into process / linux. */
  process?: Partial<Process>;
  linux?: Partial<Linux>;
  annotations?: Record<string, string>;
  /** Last word: edit the config before it is written. */
  edit?: (config: OciConfig) => void;
};

export type Bundle = {
  dir: string;
  /** Host path of the container's root (shared cache or the private copy). */
  rootfs: string;
  config: OciConfig;
  /** Rewrites config.json after changing `config`. */
  save(): void;
  cleanup(): void;
};

/** Writes a temp OCI bundle; call cleanup() when done (also when the test fails). */
export async function makeBundle(opts: BundleOptions = {}): Promise<Bundle> {
  const shared = opts.rootfs ?? (await busyboxRootfs());
  const dir = makeTempDir("bundle");
  let rootfs = shared;
  try {
    if (opts.writable) {
      rootfs = join(dir, "rootfs");
      const cp = Bun.spawnSync(["cp", "-a", shared, rootfs], { stderr: "pipe" });
      if (cp.exitCode !== 0) throw new Error(`Cannot copy the rootfs to "${rootfs}": ${cp.stderr.toString()}`);
    }
    const config = buildConfig(opts, rootfs);
    if (!opts.writable) checkMountPoints(config, shared);
    const save = () => writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
    save();
    return { dir, rootfs, config, save, cleanup: () => void removeTempDir(dir) };
  } catch (e) {
    removeTempDir(dir);
    throw e;
  }
}

function buildConfig(opts: BundleOptions, rootfs: string): OciConfig {
  const c = baseSpec();
  c.root = { path: rootfs, readonly: opts.readonly ?? !opts.writable };
  if (opts.args) c.process.args = opts.args;
  if (opts.env) c.process.env = [...opts.env];
  if (opts.markEnv !== false) c.process.env = [...(c.process.env ?? []), `${RUN_ENV}=${runToken()}`];
  if (opts.cwd) c.process.cwd = opts.cwd;
  if (opts.terminal !== undefined) c.process.terminal = opts.terminal;
  if (opts.user) c.process.user = opts.user;
  if (opts.hostname === null) delete c.hostname;
  else if (opts.hostname !== undefined) c.hostname = opts.hostname;
  if (opts.mounts) c.mounts = opts.mounts;
  if (opts.extraMounts) c.mounts.push(...opts.extraMounts);
  if (opts.namespaces) c.linux.namespaces = opts.namespaces.map((n) => (typeof n === "string" ? { type: n } : n));
  if (opts.hooks) c.hooks = opts.hooks;
  if (opts.process) Object.assign(c.process, opts.process);
  if (opts.linux) Object.assign(c.linux, opts.linux);
  if (opts.annotations) c.annotations = opts.annotations;
  opts.edit?.(c);
  return c;
}

/** A runtime creates missing mount points in the rootfs: that would write into the shared cache. */
function checkMountPoints(config: OciConfig, shared: string): void {
  if (config.root.path !== shared) return;
  const dests = config.mounts.map((m) => m.destination);
  // A destination inside another mount (/dev/pts, /sys/fs/cgroup) lives on that mount, not in the rootfs.
  const nested = (d: string) => dests.some((o) => o !== d && d.startsWith(o.endsWith("/") ? o : `${o}/`));
  const missing = dests.filter((d) => !nested(d) && !existsSync(join(shared, d)));
  if (missing.length > 0) {
    throw new Error(
      `Cannot use the shared rootfs: mount points ${missing.map((m) => `"${m}"`).join(", ")} are missing in it: ` +
        `use one of ${SPARE_MOUNT_POINTS.join(", ")} or makeBundle({ writable: true })`,
    );
  }
}

/**
 * For a test file: the shared busybox rootfs and a scratch dir under the run's temp dir
 * (makeTempDir: attributed to this run, and removed without recursing into a leaked mount),
 * filled in by beforeAll (unless the file is skipped) and removed by afterAll.
 */
export function useRootfsAndScratch(skip: string | null, prefix: string): { rootfs: string; scratch: string } {
  const fx = { rootfs: "", scratch: "" };
  beforeAll(async () => {
    if (skip) return;
    fx.rootfs = await busyboxRootfs();
    fx.scratch = makeTempDir(prefix.replace(/-$/, ""));
  });
  afterAll(() => {
    if (fx.scratch) removeTempDir(fx.scratch);
  });
  return fx;
}
