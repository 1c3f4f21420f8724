#!/usr/bin/env bun
/**
 * Pull benchmark: a multi-layer image from a local registry (loopback),
 * pelagos vs `skopeo copy` into a local dir (download only), skopeo followed
 * by GNU tar extraction of every layer (download + unpack, like a pull), and
 * `podman pull` when installed; alternating runs, each from an empty store;
 * prints medians and ratios. Needs docker-registry and skopeo; run `bun run build.ts` first.
 *
 * Fairness: every run's output is kept until the end and `sync` runs before
 * each timed run. Removing a run's tree right after it (as this benchmark
 * once did) made the next contender pay for it (see below), and dirty pages
 * of one contender were written back during another's run. Disk use: about
 * 4 GB for 5 runs.
 *
 * Where the outputs go matters on this kind of host: its ext4 has no journal, and then every new
 * inode first skips the free inodes of its block group that were freed in the last 60 s (360 s
 * while the inode table block is dirty), each skip a buffer-cache lookup (ext4
 * find_inode_bit/recently_deleted). After a big `rm -rf` nearby (a test run, the end of the last
 * benchmark) a create costs 0.2-0.5 ms instead of ~0.02 ms: a pull creating 1,500 inodes pays
 * up to a second, skopeo's `dir:` copy (10 files) nothing. The benchmark therefore measures the
 * cost of a create in its directory first, waits (up to 7 minutes) while it is high, and prints
 * it; `--dir` picks another parent.
 *
 *   bun run bench/pull.ts [--runs 7] [--layers 6] [--mb 24] [--dir /var/tmp] [--no-settle]
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { startRegistry, push } from "../test/helpers/registry.ts";
import { busyboxEntries, Layout } from "../test/helpers/oci-layout.ts";

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(argv[i + 1]);
};
const runs = opt("runs", 7);
const nLayers = opt("layers", 6);
const mb = opt("mb", 24);
const dirArg = argv.indexOf("--dir");
const base = dirArg === -1 ? "/var/tmp" : argv[dirArg + 1];
if (base === undefined || base.startsWith("--")) {
  console.error("bench/pull.ts: --dir needs a directory");
  process.exit(2);
}
const BIN = `${import.meta.dir}/../dist/pelagos`;
mkdirSync(base, { recursive: true });

/** Times `cmd`; `sync` first (outside the timing) unless it is a step of a bigger timed run. */
async function time(cmd: string[], env: Record<string, string> = {}, syncFirst = true): Promise<number> {
  if (syncFirst) Bun.spawnSync(["sync"]);
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed: ${err}`);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const reg = await startRegistry();
const scratch: string[] = [];
const podmanDirs: string[] = [];
try {
  const l = new Layout();
  scratch.push(l.dir);
  // Half random (incompressible), half text-like (compressible), like real layers.
  const layers = [{ entries: busyboxEntries() }, ...Array.from({ length: nLayers - 1 }, (_, i) => ({
    entries: [
      { name: `data/random${i}`, data: randomBytes((mb * 1024 * 1024) / 2) },
      { name: `data/text${i}`, data: Buffer.from("lorem ipsum dolor sit amet ".repeat((mb * 1024 * 1024) / 2 / 27)) },
      ...Array.from({ length: 200 }, (_, j) => ({ name: `data/small${i}/${j}`, data: `file ${j}` })),
    ],
  }))];
  const img = l.image({ layers });
  l.tag("bench", [img.manifest]);
  const ref = `${reg.host}/bench/pull:1`;
  await push(l.dir, "bench", ref);
  // The cost of a create here (see the header), 300 empty files in a fresh directory (kept to
  // the end: deleting would add to the problem). Above 100 µs, wait for recent deletions to age
  // out (they count for up to 6 minutes), unless --no-settle.
  const probe = () => {
    const d = mkdtempSync(`${base}/bench-probe-`);
    scratch.push(d);
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) closeSync(openSync(`${d}/f${i}`, "wx"));
    return ((performance.now() - t0) * 1000) / 300;
  };
  let us = probe();
  for (const end = Date.now() + 420_000; us > 100 && !argv.includes("--no-settle") && Date.now() < end; us = probe()) {
    console.log(`inode creation in ${base}: ${us.toFixed(0)} µs per file: files were deleted nearby in the last minutes; waiting for that to age out`);
    await Bun.sleep(20_000);
  }
  console.log(`inode creation in ${base}: ${us.toFixed(0)} µs per file${us > 100 ? " (slow: results are skewed against the contenders that create many files)" : ""}`);
  // A core kept busy by something else made every pelagos figure 20-40% worse (the pull's main
  // thread, Bun's HTTP/I-O/JIT threads and the registry share 2 cores): say so.
  const cpu = () => readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const a = cpu();
  await Bun.sleep(1000);
  const b = cpu().map((x, i) => x - a[i]!);
  const busy = 1 - (b[3]! + b[4]!) / b.reduce((x, y) => x + y, 0);
  console.log(`host CPU busy before the runs: ${(busy * 100).toFixed(0)}%${busy > 0.2 ? " (high: something else is running; the figures will be worse and noisier)" : ""}`);
  console.log(`image: ${nLayers} layers, ~${(nLayers - 1) * mb + 2} MB uncompressed; ${runs} runs each, alternating`);

  const contenders: Record<string, () => Promise<number>> = {
    pelagos: async () => {
      const d = mkdtempSync(`${base}/bench-pelagos-`);
      scratch.push(d);
      return await time([BIN, "image", "pull", "-q", ref], { PELAGOS_DATA_DIR: d });
    },
    "skopeo copy (dir:)": async () => {
      const d = mkdtempSync(`${base}/bench-skopeo-`);
      scratch.push(d);
      return await time(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `dir:${d}/img`]);
    },
    "skopeo + tar -x": async () => {
      // Download, then unpack every layer with GNU tar: the same work as a pull that unpacks.
      const d = mkdtempSync(`${base}/bench-skopeo-tar-`);
      scratch.push(d);
      Bun.spawnSync(["sync"]);
      const t0 = performance.now();
      await time(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `dir:${d}/img`], {}, false);
      const m = JSON.parse(readFileSync(`${d}/img/manifest.json`, "utf8")) as { layers: { digest: string }[] };
      for (const [i, l] of m.layers.entries()) {
        mkdirSync(`${d}/l${i}`);
        await time(["tar", "-xf", `${d}/img/${l.digest.slice(7)}`, "-C", `${d}/l${i}`], {}, false);
      }
      return performance.now() - t0;
    },
  };
  if (Bun.which("podman")) {
    contenders["podman pull"] = async () => {
      const d = mkdtempSync(`${base}/bench-podman-`);
      scratch.push(d);
      podmanDirs.push(d);
      return await time(["podman", "--root", `${d}/root`, "--runroot", `${d}/run`, "--storage-driver", "overlay", "pull", "-q", "--tls-verify=false", ref]);
    };
  }
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (const f of Object.values(contenders)) await f(); // warm-up (page cache, registry)
  for (let i = 0; i < runs; i++) for (const [name, f] of Object.entries(contenders)) results[name]!.push(await f());
  const ref0 = median(results.pelagos!);
  for (const [name, xs] of Object.entries(results))
    console.log(`${name.padEnd(20)} median ${median(xs).toFixed(0).padStart(6)} ms   min ${Math.min(...xs).toFixed(0).padStart(6)} ms   ratio vs pelagos ${(median(xs) / ref0).toFixed(2)}`);
} finally {
  await reg.stop();
  for (const d of podmanDirs)
    Bun.spawnSync(["podman", "--root", `${d}/root`, "--runroot", `${d}/run`, "--storage-driver", "overlay", "system", "reset", "-f"], { stdout: "ignore", stderr: "ignore" });
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
}
