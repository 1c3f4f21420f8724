/**
 * Leak check: a snapshot of host state before the suite, compared after it.
 *
 * Kinds: mounts (this process's mount namespace = the host's), named netns
 * (/run/netns), processes of the runtime or its containers, cgroup directories
 * named *pelagos*, network interfaces, files left in the run's temp dir, and
 * changes to the shared (read-only) rootfs cache.
 *
 * Other runs on the same machine (parallel sessions) must not be blamed on this
 * one, so every finding is attributed (see Owner): things carrying another run's
 * token, and processes of another checkout's pelagos binary, are dropped. The
 * preload decides which owners fail the run and re-checks those for a while, so
 * teardown that is merely late is not a leak.
 * Cost: 10-30 ms (one /proc scan, small directory reads, the rootfs manifests).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { verifyCachedRootfses } from "./rootfs-manifest.ts";
import { CACHE_DIR, IO_DIR_NAME, PELAGOS_BIN, RUN_BASE_PREFIX, RUN_ENV, runBasePath, runToken } from "./tmp.ts";

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

/**
 * "ours": carries this run's token (in the environment, a name or a path);
 * "unknown": cannot be attributed (interfaces, the shared rootfs, untagged processes).
 * Things carrying another run's token are never reported.
 */
export type Owner = "ours" | "unknown";
export type Leak = { kind: "mount" | "netns" | "process" | "cgroup" | "link" | "temp" | "rootfs"; what: string; owner: Owner };

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
/** A run dir, or an id from uniqueId() (`prefix-<token>-<n>`), of any run. */
const ANY_RUN_MARK = new RegExp(`${RUN_BASE_PREFIX}[0-9a-z]+|-[0-9a-z]{7,}-\\d+$`);

/** Who a name or command line belongs to, from the run token it carries. */
export function ownerOf(text: string): Owner | "foreign" {
  if (text.includes(runToken())) return "ours";
  return ANY_RUN_MARK.test(text) ? "foreign" : "unknown";
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

type ProcInfo = { exe: string; cmd: string; argv0: string; token: string | undefined; ppid: number };

function procInfo(pid: number): ProcInfo {
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
  const stat = read("stat");
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? 0);
  return { exe, cmd: argv.join(" "), argv0: argv[0] ?? "", token, ppid };
}

/** By its own token or command line, or else by its nearest ancestor that tells (a trampoline, a container init). */
function processOwner(pid: number, p: ProcInfo): Owner | "foreign" {
  const ourBin = realpathOrSelf(PELAGOS_BIN);
  let cur = p;
  for (let depth = 0; depth < 6; depth++) {
    if (cur.token !== undefined) return cur.token === runToken() ? "ours" : "foreign";
    const byCmd = ownerOf(cur.cmd);
    if (byCmd !== "unknown") return byCmd;
    // Another checkout's pelagos binary is another session's runtime.
    if (baseName(cur.exe).includes("pelagos") && !cur.exe.startsWith("/memfd:") && realpathOrSelf(cur.exe) !== ourBin) return "foreign";
    if (cur.ppid <= 1 || cur.ppid === process.pid) break;
    cur = procInfo(cur.ppid);
  }
  return "unknown";
}

/** A process that appeared during the run, if it is a runtime/container process not known to be another run's. */
function processLeak(pid: number): Leak | null {
  if (pid === process.pid) return null;
  const p = procInfo(pid);
  const named = PROC_NAME.test(baseName(p.exe)) || PROC_NAME.test(baseName(p.argv0)) || p.cmd.includes("memfd:pelagos");
  // Only argv[0] and exe count as names: "bun test pelagos.test.ts" of another session is no leak.
  if (p.token === undefined && !named) return null;
  const owner = processOwner(pid, p);
  if (owner === "foreign") return null;
  return { kind: "process", what: `pid ${pid} exe=${p.exe || "?"} cmd=${JSON.stringify(p.cmd)}`, owner };
}

/** Everything present now that was not in `before`, minus what is known to be another run's. */
export function findLeaks(before: Snapshot): Leak[] {
  const now = takeSnapshot();
  const leaks: Leak[] = [];
  const add = (kind: Leak["kind"], what: string, attributeBy = what) => {
    const owner = ownerOf(attributeBy);
    if (owner !== "foreign") leaks.push({ kind, what, owner });
  };
  for (const [k, line] of now.mounts) if (!before.mounts.has(k)) add("mount", line);
  for (const n of now.netns) if (!before.netns.has(n)) add("netns", `/run/netns/${n}`, n);
  for (const [k, pid] of listProcs()) {
    if (before.procs.has(k)) continue;
    const leak = processLeak(pid);
    if (leak) leaks.push(leak);
  }
  // The runtime's shared parent cgroup ("pelagos") may stay; per-container ones may not.
  for (const c of now.cgroups) if (!before.cgroups.has(c) && !c.endsWith("/pelagos")) add("cgroup", c, baseName(c));
  for (const l of now.links) if (!before.links.has(l)) add("link", l);
  leaks.push(...tempLeftovers());
  for (const d of now.rootfs) if (!before.rootfs.has(d)) leaks.push({ kind: "rootfs", what: `shared rootfs modified: ${d}`, owner: "unknown" });
  return leaks;
}

function tempLeftovers(): Leak[] {
  const base = runBasePath();
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((e) => e !== IO_DIR_NAME)
    .map((e) => ({ kind: "temp" as const, what: join(base, e), owner: "ours" as const }));
}

/** findLeaks() restricted to `relevant`, re-checked until clean or `patienceMs` has passed. */
export async function checkLeaks(before: Snapshot, patienceMs = 2000, relevant: (l: Leak) => boolean = () => true): Promise<Leak[]> {
  const deadline = performance.now() + patienceMs;
  let leaks = findLeaks(before).filter(relevant);
  while (leaks.length > 0 && performance.now() < deadline) {
    await Bun.sleep(100);
    leaks = findLeaks(before).filter(relevant);
  }
  return leaks;
}

export function formatLeaks(leaks: Leak[]): string {
  return leaks.map((l) => `  ${l.kind.padEnd(7)} ${l.owner === "unknown" ? "(unattributed) " : ""}${l.what}`).join("\n");
}
