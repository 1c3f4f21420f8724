/**
 * `--ulimit NAME=SOFT[:HARD]` (docker's names; -1 or "unlimited" = no limit)
 * and `--oom-score-adj`. Pure; the runtime's own limits come in as text
 * (/proc/self/limits) because raising a hard limit needs CAP_SYS_RESOURCE.
 */
import { UsageError } from "../errors.ts";

export type Rlimit = { type: string; soft: number; hard: number };

const NAMES: Record<string, string> = {
  as: "RLIMIT_AS", core: "RLIMIT_CORE", cpu: "RLIMIT_CPU", data: "RLIMIT_DATA", fsize: "RLIMIT_FSIZE",
  locks: "RLIMIT_LOCKS", memlock: "RLIMIT_MEMLOCK", msgqueue: "RLIMIT_MSGQUEUE", nice: "RLIMIT_NICE",
  nofile: "RLIMIT_NOFILE", nproc: "RLIMIT_NPROC", rss: "RLIMIT_RSS", rtprio: "RLIMIT_RTPRIO",
  rttime: "RLIMIT_RTTIME", sigpending: "RLIMIT_SIGPENDING", stack: "RLIMIT_STACK",
};
/** /proc/self/limits row titles */
const TITLES: Record<string, string> = {
  RLIMIT_CPU: "Max cpu time", RLIMIT_FSIZE: "Max file size", RLIMIT_DATA: "Max data size", RLIMIT_STACK: "Max stack size",
  RLIMIT_CORE: "Max core file size", RLIMIT_RSS: "Max resident set", RLIMIT_NPROC: "Max processes",
  RLIMIT_NOFILE: "Max open files", RLIMIT_MEMLOCK: "Max locked memory", RLIMIT_AS: "Max address space",
  RLIMIT_LOCKS: "Max file locks", RLIMIT_SIGPENDING: "Max pending signals", RLIMIT_MSGQUEUE: "Max msgqueue size",
  RLIMIT_NICE: "Max nice priority", RLIMIT_RTPRIO: "Max realtime priority", RLIMIT_RTTIME: "Max realtime timeout",
};
/** the OCI encoding of "unlimited" (RLIM_INFINITY); clampU64 in the plan turns any negative into it */
export const UNLIMITED = -1;

function value(s: string, u: string): number {
  if (s === "-1" || s === "unlimited") return UNLIMITED;
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UsageError(`Invalid --ulimit "${u}": "${s}" is not a number`);
  return Number(s);
}

export function parseUlimit(u: string): Rlimit {
  const eq = u.indexOf("=");
  if (eq <= 0) throw new UsageError(`Invalid --ulimit "${u}": expected NAME=SOFT[:HARD]`);
  const name = u.slice(0, eq);
  const type = NAMES[name];
  if (!type) throw new UsageError(`Invalid --ulimit "${u}": unknown limit "${name}" (one of ${Object.keys(NAMES).join(", ")})`);
  const [s = "", h, ...rest] = u.slice(eq + 1).split(":");
  if (rest.length) throw new UsageError(`Invalid --ulimit "${u}": expected NAME=SOFT[:HARD]`);
  const soft = value(s, u);
  const hard = h === undefined ? soft : value(h, u);
  if (hard !== UNLIMITED && (soft === UNLIMITED || soft > hard))
    throw new UsageError(`Invalid --ulimit "${u}": the soft limit is above the hard limit`);
  return { type, soft, hard };
}

/** Later flags for the same limit win (docker keeps one per name). */
export function parseUlimits(list: readonly string[]): Rlimit[] {
  const m = new Map<string, Rlimit>();
  for (const u of list) {
    const r = parseUlimit(u);
    m.set(r.type, r);
  }
  return [...m.values()];
}

/** Hard limits from /proc/self/limits text, by RLIMIT_ name; "unlimited" → -1. */
export function hardLimits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, title] of Object.entries(TITLES)) {
    const line = text.split("\n").find((l) => l.startsWith(title));
    const f = line?.slice(26).trim().split(/\s+/);
    if (f?.[1] !== undefined) out[type] = f[1] === "unlimited" ? UNLIMITED : Number(f[1]);
  }
  return out;
}

/** Raising a hard limit above the runtime's own needs CAP_SYS_RESOURCE: say so before starting. */
export function checkRaisable(limits: readonly Rlimit[], ownHard: Record<string, number>, hasSysResource: boolean): void {
  if (hasSysResource) return;
  for (const l of limits) {
    const own = ownHard[l.type];
    if (own === undefined || own === UNLIMITED) continue;
    if (l.hard === UNLIMITED || l.hard > own) {
      const name = Object.entries(NAMES).find(([, t]) => t === l.type)![0];
      throw new UsageError(
        `Cannot set --ulimit ${name} hard limit to ${l.hard === UNLIMITED ? "unlimited" : l.hard}: pelagos's own hard limit is ${own} and raising it needs CAP_SYS_RESOURCE, which pelagos does not hold`,
      );
    }
  }
}

export function parseOomScoreAdj(s: string): number {
  if (!/^-?\d+$/.test(s) || Number(s) < -1000 || Number(s) > 1000)
    throw new UsageError(`Invalid --oom-score-adj "${s}": expected an integer from -1000 to 1000`);
  return Number(s);
}

/**
 * The kernel refuses to lower oom_score_adj below the lowest value a
 * privileged process set (not readable) without CAP_SYS_RESOURCE; the
 * runtime's current value is the closest bound we can see.
 */
export function checkOomScoreAdj(v: number, own: number, hasSysResource: boolean): void {
  if (hasSysResource || v >= own) return;
  throw new UsageError(
    `Cannot set --oom-score-adj ${v}: it is below pelagos's own (${own}) and lowering it needs CAP_SYS_RESOURCE, which pelagos does not hold`,
  );
}
