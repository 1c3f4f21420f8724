#!/usr/bin/env bun
/**
 * Cold start: wall-clock time of `RUNTIME --root R run --bundle B ID` for a
 * busybox bundle running /bin/true (runc spec's namespaces, network included),
 * for pelagos, runc and crun, alternated within one invocation.
 *
 *   bun run bench/cold-start.ts [--iterations N] [--warmup N] [--runtimes pelagos,runc,crun] [--json] [--no-isolate]
 *
 * crun refuses hybrid cgroup hosts (v1 controllers plus cgroup2 at
 * /sys/fs/cgroup/unified). So the benchmark re-executes itself under
 * `unshare -m --propagation private`, unmounts that cgroup2 mount inside the
 * private mount namespace only, and runs every runtime there: all of them see
 * the same (pure v1) host.
 */
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { makeBundle } from "../test/helpers/rootfs.ts";
import { makeTempDir, removeTempDir, REPO_ROOT, runBasePath } from "../test/helpers/tmp.ts";
import { summarize, type Summary } from "./stats.ts";

const INNER_ENV = "PELAGOS_BENCH_INNER";
const HYBRID_CGROUP2 = "/sys/fs/cgroup/unified";

type Options = { iterations: number; warmup: number; json: boolean; isolate: boolean; runtimes: string[] };

function parseArgs(argv: string[]): Options {
  const o: Options = { iterations: 30, warmup: 3, json: false, isolate: true, runtimes: ["pelagos", "pelagos-uncached", "runc", "crun"] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [k, inline] = a.split("=", 2);
    const val = () => inline ?? argv[++i] ?? "";
    if (k === "--iterations") o.iterations = Number(val());
    else if (k === "--warmup") o.warmup = Number(val());
    else if (k === "--runtimes") o.runtimes = val().split(",").filter(Boolean);
    else if (k === "--json") o.json = true;
    else if (k === "--no-isolate") o.isolate = false;
    else if (k === "--help" || k === "-h") {
      console.log("usage: bun run bench/cold-start.ts [--iterations N] [--warmup N] [--runtimes pelagos,pelagos-uncached,runc,crun] [--json] [--no-isolate]");
      process.exit(0);
    } else {
      console.error(`cold-start: unknown option "${a}"`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.iterations) || o.iterations < 1) throw new Error(`Invalid --iterations "${o.iterations}"`);
  return o;
}

const mntNs = () => readlinkSync("/proc/self/ns/mnt");

/** Re-runs this script in a private mount namespace; returns its exit status, or null when that is impossible. */
function reexecIsolated(opts: Options): number | null {
  if (!opts.isolate || process.env[INNER_ENV] || process.getuid?.() !== 0 || !Bun.which("unshare")) return null;
  const r = Bun.spawnSync(["unshare", "-m", "--propagation", "private", process.execPath, "run", import.meta.path, ...process.argv.slice(2)], {
    // The outer mount namespace travels along, so the inner run can prove it is elsewhere before it unmounts anything.
    env: { ...process.env, [INNER_ENV]: mntNs() },
    stdio: ["inherit", "inherit", "inherit"],
  });
  return r.exitCode ?? 1;
}

function mountedAt(path: string): string | null {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    if (f[4] === path) return f[f.indexOf("-") + 1] ?? null;
  }
  return null;
}

/** Inside the private mount namespace: make the hybrid host look like a pure v1 one. */
function isolateCgroups(opts: Options): string {
  const outer = process.env[INNER_ENV];
  if (!opts.isolate) return "not isolated (--no-isolate): runtimes see the host's cgroups as they are";
  if (!outer) return "not isolated (needs root and unshare): runtimes see the host's cgroups as they are";
  if (outer === mntNs()) throw new Error(`Refusing to unmount ${HYBRID_CGROUP2}: still in the outer mount namespace ${outer}`);
  if (mountedAt(HYBRID_CGROUP2) !== "cgroup2") return `private mount namespace; no cgroup2 at ${HYBRID_CGROUP2} to hide`;
  const r = Bun.spawnSync(["umount", HYBRID_CGROUP2], { stderr: "pipe" });
  if (r.exitCode !== 0) return `private mount namespace; could not unmount ${HYBRID_CGROUP2}: ${r.stderr.toString().trim()}`;
  return `private mount namespace with ${HYBRID_CGROUP2} (cgroup2) unmounted: all runtimes see cgroup v1 only`;
}

type Runtime = { name: string; bin: string; root: string; version: string; samples: number[]; env?: Record<string, string>; error?: string };

function firstLine(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  return (r.stdout.toString() || r.stderr.toString()).split("\n")[0]?.trim() ?? "";
}

/** "pelagos-uncached": pelagos with its plan and config caches off (ADR 0007), i.e. every start plans and validates. */
function resolveRuntime(name: string): Runtime {
  const ours = name === "pelagos" || name === "pelagos-uncached";
  const bin = ours ? (process.env.PELAGOS_BIN ?? join(REPO_ROOT, "dist/pelagos")) : (Bun.which(name) ?? "");
  const rt: Runtime = { name, bin, root: "", version: "", samples: [], env: name === "pelagos-uncached" ? { PELAGOS_PLAN_CACHE: "0" } : undefined };
  if (!bin || !existsSync(bin)) rt.error = `missing (${ours ? `no "${bin}": run bun run build.ts` : "not in PATH"})`;
  else {
    rt.root = makeTempDir(`bench-${name}`);
    rt.version = firstLine([bin, "--version"]);
  }
  return rt;
}

let seq = 0;

/** One timed `run`, then an untimed `delete --force` in case the runtime kept the container. */
function runOnce(rt: Runtime, bundle: string): number {
  const id = `pelagos-bench-${process.pid}-${++seq}`;
  const t0 = performance.now();
  const r = Bun.spawnSync([rt.bin, "--root", rt.root, "run", "--bundle", bundle, id], { stdout: "ignore", stderr: "pipe", env: { ...process.env, ...rt.env } });
  const ms = performance.now() - t0;
  Bun.spawnSync([rt.bin, "--root", rt.root, "delete", "--force", id], { stdout: "ignore", stderr: "ignore" });
  if (r.exitCode !== 0) {
    throw new Error(`"${rt.name} run" exited with ${r.exitCode ?? r.signalCode}: ${r.stderr.toString().trim().slice(0, 500)}`);
  }
  return ms;
}

function machine() {
  const cpu = cpus()[0]?.model ?? "unknown";
  return { nproc: cpus().length, cpu, kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(), bun: Bun.version };
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const status = reexecIsolated(opts);
  if (status !== null) return status;
  const environment = isolateCgroups(opts);
  const runtimes = opts.runtimes.map(resolveRuntime);
  const bundle = await makeBundle({ args: ["/bin/true"], markEnv: false });
  const baseline: number[] = [];
  try {
    for (let w = 0; w < opts.warmup; w++) for (const rt of runtimes) attempt(rt, bundle.dir, false);
    for (let i = 0; i < opts.iterations; i++) {
      // Rotate the order so that no runtime always runs right after the same other one.
      const live = runtimes.filter((r) => !r.error);
      for (let k = 0; k < live.length; k++) attempt(live[(i + k) % live.length]!, bundle.dir, true);
      baseline.push(spawnOnly());
    }
  } finally {
    bundle.cleanup();
    for (const rt of runtimes) if (rt.root) removeTempDir(rt.root);
    removeTempDir(runBasePath());
  }
  report(opts, runtimes, environment, summarize(baseline));
  return runtimes.every((r) => r.error) ? 1 : 0;
}

/** The harness's own cost: spawning /bin/true on the host and waiting for it. */
function spawnOnly(): number {
  const t0 = performance.now();
  Bun.spawnSync(["/bin/true"], { stdout: "ignore", stderr: "ignore" });
  return performance.now() - t0;
}

/** A runtime that fails once is reported as failed and left out from then on. */
function attempt(rt: Runtime, bundle: string, keep: boolean): void {
  if (rt.error) return;
  try {
    const ms = runOnce(rt, bundle);
    if (keep) rt.samples.push(ms);
  } catch (e) {
    rt.error = `failed: ${(e as Error).message}`;
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const roundAll = (s: Summary): Summary => ({ n: s.n, min: round2(s.min), median: round2(s.median), p90: round2(s.p90), mean: round2(s.mean), max: round2(s.max) });

function report(opts: Options, runtimes: Runtime[], environment: string, baseline: Summary): void {
  const summaries: Record<string, Summary> = {};
  for (const rt of runtimes) if (!rt.error && rt.samples.length) summaries[rt.name] = summarize(rt.samples);
  const ratio = (a: string, b: string) => (summaries[a] && summaries[b] ? summaries[a]!.median / summaries[b]!.median : null);
  const ratios = {
    "pelagos/crun": ratio("pelagos", "crun"), "pelagos/runc": ratio("pelagos", "runc"),
    "pelagos-uncached/crun": ratio("pelagos-uncached", "crun"), "pelagos-uncached/runc": ratio("pelagos-uncached", "runc"),
    "crun/runc": ratio("crun", "runc"),
  };
  const command = `RUNTIME --root DIR run --bundle BUNDLE ID   (process /bin/true, namespaces pid,network,ipc,uts,mount)`;
  const out = {
    benchmark: "cold-start",
    command,
    iterations: opts.iterations,
    warmup: opts.warmup,
    environment,
    machine: machine(),
    runtimes: runtimes.map((r) => ({
      name: r.name,
      bin: r.bin,
      version: r.version,
      error: r.error ?? null,
      summaryMs: summaries[r.name] ? roundAll(summaries[r.name]!) : null,
      samplesMs: r.samples.map(round2),
    })),
    spawnOnlyMs: roundAll(baseline),
    ratiosOfMedians: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, v === null ? null : Math.round(v * 1000) / 1000])),
  };
  if (opts.json) return void console.log(JSON.stringify(out, null, 2));
  const m = out.machine;
  console.log(`cold start: ${command}`);
  console.log(`machine: ${m.nproc} CPUs (${m.cpu}), kernel ${m.kernel}, bun ${m.bun}`);
  console.log(`environment: ${environment}`);
  console.log(`${opts.iterations} iterations after ${opts.warmup} warm-ups each, runtimes alternated\n`);
  console.log(`${"runtime".padEnd(16)} ${"median".padStart(9)} ${"p90".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)}  version`);
  const f = (x: number) => `${x.toFixed(2)} ms`.padStart(9);
  for (const r of runtimes) {
    const s = summaries[r.name];
    if (s) console.log(`${r.name.padEnd(16)} ${f(s.median)} ${f(s.p90)} ${f(s.min)} ${f(s.max)}  ${r.version}`);
    else console.log(`${r.name.padEnd(16)} ${r.error ?? "no samples"}`);
  }
  console.log(`${"(spawn)".padEnd(16)} ${f(baseline.median)} ${f(baseline.p90)} ${f(baseline.min)} ${f(baseline.max)}  host /bin/true, the harness's own cost`);
  console.log("");
  for (const [k, v] of Object.entries(ratios)) console.log(`${k.padEnd(21)} ${v === null ? "n/a" : `${v.toFixed(2)}x`} (medians)`);
}

try {
  process.exit(await main());
} catch (e) {
  console.error(`cold-start: ${(e as Error).message}`);
  process.exit(1);
}
