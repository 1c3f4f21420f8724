/**
 * `pelagos run` security flags → SecuritySpec (src/plan/security-config.ts).
 * Everything is validated here, before anything is touched; the few host
 * facts it needs (own limits, /dev for --privileged, /etc/subuid, the id
 * ranges other user namespaces use) are read here too.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { tryLockExclusive } from "../../ffi/idmap.ts";
import * as sys from "../../ffi/sys.ts";
import { readFileInRoot } from "../../ffi/sys.ts";
import { UsageError } from "../errors.ts";
import type { OciConfig, OciDevice } from "../oci/runtime/config.ts";
import type { HostFacts } from "../plan/host.ts";
import type { SecuritySpec } from "../plan/security-config.ts";
import { loadSeccompProfileFile } from "../seccomp/index.ts";
import { resolveCapabilities } from "../security/capabilities.ts";
import { parseSecurityOpts } from "../security/security-opt.ts";
import { sysctlNamespace, parseSysctls } from "../security/sysctl.ts";
import { checkOomScoreAdj, checkRaisable, hardLimits, parseOomScoreAdj, parseUlimits } from "../security/ulimit.ts";
import { checkMapped, parseUserns, pickRange, rangesInUse, subIdRanges, SUBID_USERS, type IdMap } from "../security/userns.ts";

export type SecurityFlags = {
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  securityOpt?: string[];
  ulimit?: string[];
  oomScoreAdj?: string;
  sysctl?: string[];
  groupAdd?: string[];
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
};

const CAP_SYS_RESOURCE = 24;

/** Files read for `--userns auto` (tests point them elsewhere in a private mount namespace). */
export const SUBID_FILES = { uid: "/etc/subuid", gid: "/etc/subgid" };

export function buildSecuritySpec(
  f: SecurityFlags,
  c: { rootfs: string; user: { uid: number; gid: number; additionalGids: number[] }; network: string; host: HostFacts; read?: (rel: string) => string | undefined },
): { security: SecuritySpec; groups: number[] } {
  const opts = parseSecurityOpts(f.securityOpt ?? []);
  const privileged = f.privileged ?? false;
  const capabilities = resolveCapabilities({ add: f.capAdd ?? [], drop: f.capDrop ?? [], privileged }, c.host.ownCaps);
  const hasSysResource = c.host.ownCaps.includes(CAP_SYS_RESOURCE);
  const rlimits = parseUlimits(f.ulimit ?? []);
  checkRaisable(rlimits, hardLimits(readFileSync("/proc/self/limits", "utf8")), hasSysResource);
  let oomScoreAdj: number | undefined;
  if (f.oomScoreAdj !== undefined) {
    oomScoreAdj = parseOomScoreAdj(f.oomScoreAdj);
    checkOomScoreAdj(oomScoreAdj, Number(readFileSync("/proc/self/oom_score_adj", "utf8").trim()), hasSysResource);
  }
  const sysctl = parseSysctls(f.sysctl ?? []);
  for (const key of Object.keys(sysctl))
    if (sysctlNamespace(key) === "network" && c.network === "host")
      throw new UsageError(`Invalid --sysctl "${key}": network sysctls cannot be set with --network host (they would change the host)`);
  let seccomp: SecuritySpec["seccomp"];
  if (opts.seccomp.kind === "file") seccomp = { profile: loadSeccompProfileFile(opts.seccomp.path) };
  // docker: --privileged runs unconfined unless a profile is named
  else seccomp = opts.seccomp.kind === "unconfined" || privileged ? "unconfined" : "default";
  const groups = resolveGroups(f.groupAdd ?? [], c.rootfs, c.read);
  const userns = userNamespace(f, c.user, groups);
  return {
    security: {
      capabilities, privileged, seccomp, noNewPrivileges: opts.noNewPrivileges ?? false,
      systemPaths: opts.systemPaths, rlimits, oomScoreAdj, sysctl, devices: privileged ? hostDevices() : [], userns,
    },
    groups,
  };
}

/** `--group-add`: numbers, or names from the container's /etc/group. */
export function resolveGroups(list: readonly string[], rootfs: string, read: (rel: string) => string | undefined = (rel) => readFileInRoot(rootfs, rel)): number[] {
  if (!list.length) return [];
  const text = read("etc/group") ?? "";
  return list.map((g) => {
    if (/^\d+$/.test(g)) {
      if (Number(g) > 4294967294) throw new UsageError(`Invalid --group-add "${g}": out of range`);
      return Number(g);
    }
    const line = text.split("\n").find((l) => l.split(":")[0] === g);
    const gid = line?.split(":")[2];
    if (!gid || !/^\d+$/.test(gid)) throw new UsageError(`Cannot find group "${g}" in the container's /etc/group`);
    return Number(gid);
  });
}

function userNamespace(f: SecurityFlags, user: { uid: number; gid: number; additionalGids: number[] }, groups: number[]): SecuritySpec["userns"] {
  const req = parseUserns(f.userns, f.uidmap ?? [], f.gidmap ?? []);
  if (req.mode === "host") return undefined;
  let uidMap: IdMap[], gidMap: IdMap[];
  if (req.mode === "private") ({ uidMap, gidMap } = req);
  else {
    // checked now for a clear error; picked again when the maps are written (allocateAutoRanges)
    uidMap = [{ containerID: 0, hostID: autoRange("uid", req.size), size: req.size }];
    gidMap = [{ containerID: 0, hostID: autoRange("gid", req.size), size: req.size }];
  }
  const flag = req.mode === "auto" ? "--userns auto" : undefined;
  checkMapped(uidMap, [user.uid], "uid", flag ?? "--uidmap");
  checkMapped(gidMap, [user.gid, ...user.additionalGids, ...groups], "gid", flag ?? "--gidmap");
  return { uidMap, gidMap, ...(req.mode === "auto" ? { auto: req.size } : {}) };
}

/** What startInit needs for a SecuritySpec's user namespace (src/runtime/start-init.ts UsernsInit). */
export function usernsInit(s: SecuritySpec | undefined): { idmapRootfs: boolean; allocate?: (config: OciConfig) => Promise<() => void> } | undefined {
  if (!s?.userns) return undefined;
  const size = s.userns.auto;
  return { idmapRootfs: true, allocate: size === undefined ? undefined : (config) => allocateAutoRanges(config, size) };
}

/**
 * Picks the `--userns auto` ranges into `config` while holding a host-wide
 * lock (flock on /etc/subuid): two containers starting together cannot pick
 * the same range. The caller releases it once the maps are written, when the
 * range becomes visible in /proc/PID/uid_map.
 */
export async function allocateAutoRanges(config: OciConfig, size: number): Promise<() => void> {
  const fd = sys.open(SUBID_FILES.uid, sys.O_RDONLY);
  try {
    const deadline = Date.now() + 10_000;
    while (!tryLockExclusive(fd)) {
      if (Date.now() > deadline) throw new UsageError(`Cannot use --userns auto: ${SUBID_FILES.uid} stayed locked by another pelagos for 10 s`);
      await Bun.sleep(2);
    }
    config.linux!.uidMappings = [{ containerID: 0, hostID: autoRange("uid", size), size }];
    config.linux!.gidMappings = [{ containerID: 0, hostID: autoRange("gid", size), size }];
  } catch (e) {
    sys.close(fd);
    throw e;
  }
  return () => sys.close(fd);
}

/**
 * A free range of `size` ids from /etc/subuid (or subgid) for "pelagos", else
 * "root". Ranges other user namespaces map (any process's uid_map) are taken.
 * Two runs starting at the same instant can still pick the same range.
 */
function autoRange(kind: "uid" | "gid", size: number): number {
  const file = SUBID_FILES[kind];
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = undefined;
  }
  const user = SUBID_USERS.find((u) => subIdRanges(text, u).length > 0);
  if (!user)
    throw new UsageError(
      `Cannot use --userns auto: ${file} has no range for "pelagos" or "root" (add a line such as "pelagos:100000:655360" to ${SUBID_FILES.uid} and ${SUBID_FILES.gid})`,
    );
  const start = pickRange(subIdRanges(text, user), rangesInUse(idMapsInUse(kind)), size);
  if (start === undefined)
    throw new UsageError(`Cannot use --userns auto: no free range of ${size} ids left in ${file} for "${user}" (other containers use them)`);
  return start;
}

function idMapsInUse(kind: "uid" | "gid"): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const t = readFileSync(`/proc/${pid}/${kind}_map`, "utf8");
      if (!seen.has(t)) seen.add(t), out.push(t);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Docker's --privileged devices: every char/block node under the host's /dev (runc's GetDevices skips). */
export function hostDevices(dir = "/dev"): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = `${dir}/${name}`;
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (!["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"].includes(name)) out.push(...hostDevices(path));
      continue;
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
    if (path === "/dev/console" || path === "/dev/ptmx") continue;
    const rdev = st.rdev;
    const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    out.push({ type: st.isBlockDevice() ? "b" : "c", path, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) });
  }
  return out;
}
