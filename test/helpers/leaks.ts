/**
 * Leak check: a snapshot of host state before the suite, compared after it.
 *
 * Kinds: mounts (this process's mount namespace = the host's), named netns
 * (/run/netns), processes of the runtime or its containers, cgroup directories
 * named *pelagos*, network interfaces, files left in the run's temp dir, and
 * changes to the shared (read-only) rootfs cache.
 *
 * Other runs on the same machine (parallel sessions) must not be blamed on this
 * one: processes carrying another run's PELAGOS_TEST_RUN token and mounts under
 * another run's temp dir are ignored. What is left is re-checked a few times
 * before it is reported, so teardown that is merely late is not a leak.
 * Cost: a few ms (one /proc scan, a few small directory reads).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { verifyCachedRootfses } from "./rootfs-manifest.ts";
import { CACHE_DIR, IO_DIR_NAME, RUN_BASE_PREFIX, RUN_ENV, runBasePath, runToken, unescapeMountPath } from "./tmp.ts";

export type Snapshot = {
  /** "mountID mountpoint" → mountinfo line. */
  mounts: Map<string, string>;
  netns: Set<string>;
  /** "pid:starttime" of every process. */
  procs: Set<string>;
  cgroups: Set<string>;
  links: Set<string>;
  /** "rootfs dir: manifest difference" of the shared rootfs cache. */
  rootfs: Set<string>;
};

export type Leak = { kind: "mount" | "netns" | "process" | "cgroup" | "link" | "temp" | "rootfs"; what: string };

export function takeSnapshot(): Snapshot {
  return {
    mounts: readMounts(),
    netns: readNames("/run/netns"),
    procs: new Set(listProcs().keys()),
    cgroups: readCgroups(),
    links: readNames("/sys/class/net"),
    rootfs: new Set(verifyCachedRootfses(CACHE_DIR).flatMap(({ dir, diff }) => diff.map((d) => `${dir}: ${d}`))),
  };
}

function readNames(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

function readMounts(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    if (f.length > 4) out.set(`${f[0]} ${f[4]}`, line);
  }
  return out;
}

/** pid:starttime → pid, for every process (a recycled PID gets a new key). */
function listProcs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
      out.set(`${name}:${start}`, Number(name));
    } catch {
      // exited while scanning
    }
  }
  return out;
}

/** cgroup directories (up to 3 levels below each hierarchy) with "pelagos" in their name. */
function readCgroups(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name.includes("pelagos")) out.add(p);
      if (depth < 3) walk(p, depth + 1);
    }
  };
  for (const h of readNames("/sys/fs/cgroup")) walk(join("/sys/fs/cgroup", h), 1);
  return out;
}

/** Matched against the basename of exe and of argv[0]. */
const PROC_NAME = /^(.*pelagos.*|probe)( \(deleted\))?$/;
const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** Why a process that appeared during the run counts as ours, or null. */
function processLeak(pid: number): string | null {
  if (pid === process.pid) return null;
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, "utf8");
    } catch {
      return "";
    }
  };
  let exe = "";
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // kernel thread, zombie or gone
  }
  const argv = read("cmdline").split("\0").filter(Boolean);
  const token = read("environ").split("\0").find((e) => e.startsWith(`${RUN_ENV}=`))?.slice(RUN_ENV.length + 1);
  if (token !== undefined && token !== runToken()) return null;
  const ours = token === runToken();
  // Only argv[0] and exe: "bun test pelagos.test.ts" of another session is no leak.
  if (!ours && !PROC_NAME.test(baseName(exe)) && !PROC_NAME.test(baseName(argv[0] ?? "")) && !argv.join(" ").includes("memfd:pelagos")) return null;
  return `pid ${pid} exe=${exe || "?"} cmd=${JSON.stringify(argv.join(" "))}${ours ? " (has this run's token)" : ""}`;
}

function otherRunsMount(line: string): boolean {
  const mp = unescapeMountPath(line.split(" ")[4] ?? "");
  const i = mp.indexOf(RUN_BASE_PREFIX);
  return i >= 0 && !mp.slice(i).startsWith(`${RUN_BASE_PREFIX}${runToken()}`);
}

/** Everything present now that was not in `before` (and is not another run's). */
export function findLeaks(before: Snapshot): Leak[] {
  const now = takeSnapshot();
  const leaks: Leak[] = [];
  for (const [k, line] of now.mounts) if (!before.mounts.has(k) && !otherRunsMount(line)) leaks.push({ kind: "mount", what: line });
  for (const n of now.netns) if (!before.netns.has(n)) leaks.push({ kind: "netns", what: `/run/netns/${n}` });
  for (const [k, pid] of listProcs()) {
    if (before.procs.has(k)) continue;
    const why = processLeak(pid);
    if (why) leaks.push({ kind: "process", what: why });
  }
  // The runtime's shared parent cgroup ("pelagos") may stay; per-container ones may not.
  for (const c of now.cgroups) if (!before.cgroups.has(c) && !c.endsWith("/pelagos")) leaks.push({ kind: "cgroup", what: c });
  for (const l of now.links) if (!before.links.has(l)) leaks.push({ kind: "link", what: l });
  leaks.push(...tempLeftovers());
  for (const d of now.rootfs) if (!before.rootfs.has(d)) leaks.push({ kind: "rootfs", what: `shared rootfs modified: ${d}` });
  return leaks;
}

function tempLeftovers(): Leak[] {
  const base = runBasePath();
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((e) => e !== IO_DIR_NAME)
    .map((e) => ({ kind: "temp" as const, what: join(base, e) }));
}

/** findLeaks(), re-checked until clean or `patienceMs` has passed. */
export async function checkLeaks(before: Snapshot, patienceMs = 2000): Promise<Leak[]> {
  const deadline = performance.now() + patienceMs;
  let leaks = findLeaks(before);
  while (leaks.length > 0 && performance.now() < deadline) {
    await Bun.sleep(100);
    leaks = findLeaks(before);
  }
  return leaks;
}

export function formatLeaks(leaks: Leak[]): string {
  return leaks.map((l) => `  ${l.kind.padEnd(7)} ${l.what}`).join("\n");
}
