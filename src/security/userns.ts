/**
 * `--userns host|auto[:size=N]|private`, `--uidmap`/`--gidmap CONTAINER:HOST:SIZE`
 * (podman's syntax) and /etc/subuid, /etc/subgid ranges for `auto`. Pure: file
 * contents and the ranges other user namespaces use come in as text.
 */
import { UsageError } from "../errors.ts";

export type IdMap = { containerID: number; hostID: number; size: number };
export type UsernsRequest =
  | { mode: "host" }
  | { mode: "auto"; size: number }
  | { mode: "private"; uidMap: IdMap[]; gidMap: IdMap[] };

const MAX = 4294967295; // 2^32-1 is "no id"
export const AUTO_SIZE = 65536;
/** whose /etc/subuid entries `auto` uses, in order of preference */
export const SUBID_USERS = ["pelagos", "root"];

export function parseIdMap(s: string, flag: string): IdMap {
  const m = /^(\d+):(\d+):(\d+)$/.exec(s);
  if (!m) throw new UsageError(`Invalid ${flag} "${s}": expected CONTAINER_ID:HOST_ID:SIZE`);
  const [containerID, hostID, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (size < 1 || containerID + size > MAX || hostID + size > MAX) throw new UsageError(`Invalid ${flag} "${s}": the range is empty or out of bounds`);
  return { containerID, hostID, size };
}

function checkOverlaps(maps: IdMap[], flag: string): void {
  const sorted = (key: "containerID" | "hostID") => [...maps].sort((a, b) => a[key] - b[key]);
  for (const key of ["containerID", "hostID"] as const) {
    const s = sorted(key);
    for (let i = 1; i < s.length; i++)
      if (s[i - 1]![key] + s[i - 1]!.size > s[i]![key]) throw new UsageError(`Invalid ${flag}: the ranges overlap`);
  }
  if (maps.length > 340) throw new UsageError(`Invalid ${flag}: at most 340 ranges`);
}

export function parseUserns(userns: string | undefined, uidmaps: readonly string[], gidmaps: readonly string[]): UsernsRequest {
  if (uidmaps.length || gidmaps.length) {
    if (userns !== undefined && userns !== "private") throw new UsageError(`Invalid --userns "${userns}": --uidmap/--gidmap need --userns private (or no --userns)`);
    const uidMap = uidmaps.map((m) => parseIdMap(m, "--uidmap"));
    // podman: without --gidmap the gid map is the uid map
    const gidMap = gidmaps.length ? gidmaps.map((m) => parseIdMap(m, "--gidmap")) : uidMap;
    if (!uidMap.length) throw new UsageError("--gidmap needs --uidmap too");
    checkOverlaps(uidMap, "--uidmap");
    checkOverlaps(gidMap, "--gidmap");
    return { mode: "private", uidMap, gidMap };
  }
  if (userns === undefined || userns === "host" || userns === "") return { mode: "host" };
  const m = /^(auto|private)(?::size=(\d+))?$/.exec(userns);
  if (!m) throw new UsageError(`Invalid --userns "${userns}": expected host, auto[:size=N] or private`);
  const size = m[2] === undefined ? AUTO_SIZE : Number(m[2]);
  if (size < 1 || size > AUTO_SIZE * 1024) throw new UsageError(`Invalid --userns "${userns}": size must be from 1 to ${AUTO_SIZE * 1024}`);
  return { mode: "auto", size };
}

export type SubIdRange = { start: number; count: number };

/** /etc/subuid lines `name:start:count` for `user` (names only; numeric owners are not resolved). */
export function subIdRanges(text: string | undefined, user: string): SubIdRange[] {
  return (text ?? "").split("\n").flatMap((l) => {
    const f = l.trim().split(":");
    if (f.length !== 3 || f[0] !== user || !/^\d+$/.test(f[1]!) || !/^\d+$/.test(f[2]!)) return [];
    return [{ start: Number(f[1]), count: Number(f[2]) }];
  });
}

/** Host ranges used by other user namespaces, from their /proc/PID/uid_map texts (the identity map excluded). */
export function rangesInUse(mapTexts: readonly string[]): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const t of mapTexts)
    for (const line of t.split("\n")) {
      const f = line.trim().split(/\s+/).map(Number);
      if (f.length !== 3 || f.some((n) => !Number.isFinite(n))) continue;
      if (f[0] === 0 && f[1] === 0 && f[2] === MAX) continue;
      out.push({ start: f[1]!, count: f[2]! });
    }
  return out;
}

/** First fit: the lowest `size` ids inside `allowed` that overlap nothing in `used`. */
export function pickRange(allowed: readonly SubIdRange[], used: readonly SubIdRange[], size: number): number | undefined {
  for (const r of allowed) {
    let start = r.start;
    while (start + size <= r.start + r.count) {
      const clash = used.find((u) => start < u.start + u.count && u.start < start + size);
      if (!clash) return start;
      start = clash.start + clash.count;
    }
  }
  return undefined;
}

/** Every id the process will use must be mapped, or setresuid/setgroups fail with EINVAL inside. */
export function checkMapped(maps: readonly IdMap[], ids: readonly number[], what: string, flag: string): void {
  for (const id of ids)
    if (!maps.some((m) => id >= m.containerID && id < m.containerID + m.size))
      throw new UsageError(`Invalid ${flag}: the container's ${what} ${id} is not mapped`);
}
