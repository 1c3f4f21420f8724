/**
 * Every container's cgroup, from its OCI config: where it goes
 * (`linux.cgroupsPath`, default `pelagos/<id>`), which limits
 * (`linux.resources`) and which device rules (the config's, then an allow rule
 * for each `linux.devices` entry and the default devices, as runc does).
 * Created before the init exists (so it is cloned into it), destroyed by
 * delete/rm and by the Undo of a failed start.
 */
import { existsSync, readFileSync } from "node:fs";
import * as v from "valibot";
import type { Undo } from "../errors.ts";
import { mark } from "../log/timing.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import type { LaunchCgroup } from "../plan/launch.ts";
import { hostCgroupFs } from "../cgroups/cgroupfs.ts";
import { CgroupManager, type CgroupState } from "../cgroups/manager.ts";
import type { LinuxDeviceCgroupRule, LinuxResources } from "../cgroups/resources.ts";
import { sha256Hex } from "../state/random.ts";
import { DEFAULT_ROOT } from "../cli/context.ts";

/** What startInit needs of the cgroup (CgroupManager has it). */
export type CgroupPlacement = {
  dirfd: number | undefined;
  openV1Tasks(): { fd: number; name: string }[];
};

/**
 * Hands the cgroup's fds to the trampoline (appended to `extraFds`, which start at its fd 5):
 * the cgroup2 leaf for CLONE_INTO_CGROUP and each v1 `tasks` file (ours to close: `toClose`).
 * Returns what the plan needs (launch.ts LaunchCgroup), with the trampoline's fd numbers.
 */
export function passCgroupFds(cg: CgroupPlacement | undefined, extraFds: number[], toClose: number[]): LaunchCgroup | undefined {
  if (!cg) return undefined;
  const at = (fd: number) => 5 + extraFds.push(fd) - 1;
  const fd = cg.dirfd === undefined ? undefined : at(cg.dirfd);
  const v1Tasks = cg.openV1Tasks().map((t) => {
    toClose.push(t.fd);
    return { fd: at(t.fd), name: t.name };
  });
  return { fd, v1Tasks };
}

const rwm = (type: "c" | "b", major: number, minor?: number): LinuxDeviceCgroupRule => ({ allow: true, type, major, minor: minor ?? -1, access: "rwm" });

/** runc's (and docker's) default allow-list: mknod of any node, and the devices every container gets. */
export const DEFAULT_ALLOWED_DEVICES: LinuxDeviceCgroupRule[] = [
  { allow: true, type: "c", major: -1, minor: -1, access: "m" },
  { allow: true, type: "b", major: -1, minor: -1, access: "m" },
  rwm("c", 1, 3), rwm("c", 1, 5), rwm("c", 1, 7), rwm("c", 1, 8), rwm("c", 1, 9), // null zero full random urandom
  rwm("c", 5, 0), rwm("c", 5, 1), rwm("c", 5, 2), rwm("c", 136), // tty console ptmx pts/*
  rwm("c", 10, 200), // net/tun
];


/**
 * The limits to apply for `config`. A config without device rules gets none (every device, as on a
 * host without a devices controller); with rules, the container's own devices and the defaults are
 * allowed after them (the last matching rule wins).
 */
export function containerResources(config: OciConfig): LinuxResources | undefined {
  const res = config.linux?.resources as LinuxResources | undefined;
  if (!res) return undefined;
  const out: LinuxResources = structuredClone(res);
  if (res.devices && res.devices.length > 0) {
    const own = (config.linux?.devices ?? []).flatMap((d) =>
      d.type === "c" || d.type === "b" || d.type === "u" ? [rwm(d.type === "b" ? "b" : "c", d.major ?? -1, d.minor ?? -1)] : [],
    );
    out.devices = [...res.devices, ...own, ...DEFAULT_ALLOWED_DEVICES];
  }
  return out;
}

/**
 * The cgroup leaf for container `id` under runtime root `root`: the id itself
 * for the default root, else the id plus a hash of the root, so two runtime
 * roots (tests, rootless users) never share a cgroup.
 */
export function cgroupLeaf(root: string, id: string): string {
  if (root === DEFAULT_ROOT) return id;
  return `${id}-${sha256Hex(root).slice(0, 8)}`;
}

/** Creates the container's cgroup with its limits; the Undo destroys it (killing anything inside). */
export async function createContainerCgroup(id: string, config: OciConfig, undo: Undo): Promise<CgroupManager> {
  mark("cgroup: creating");
  const m = await CgroupManager.create({
    id, cgroupsPath: config.linux?.cgroupsPath, resources: containerResources(config),
    systemdRunning: existsSync("/run/systemd/system"),
  });
  mark("cgroup: created");
  undo.push(`remove the cgroup of "${id}"`, async () => {
    m.closeDirfd();
    await m.destroy();
  });
  return m;
}

export const CgroupStateSchema = v.object({
  mode: v.picklist(["v2", "hybrid", "v1"]),
  rel: v.string(),
  dirs: v.object({
    unified: v.optional(v.string()),
    unifiedControllers: v.array(v.string()),
    v1: v.record(v.string(), v.string()),
  }),
  created: v.array(v.string()),
  oomGroup: v.boolean(),
});

export function cgroupOf(state: v.InferOutput<typeof CgroupStateSchema> | undefined): CgroupManager | undefined {
  return state ? CgroupManager.fromState(state as CgroupState) : undefined;
}

/** Whether the cgroup's freezer says frozen (v1 freezer.state, or cgroup.events "frozen 1"). */
export function isFrozen(m: CgroupManager): boolean {
  const read = (f: string) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return undefined;
    }
  };
  const fr = m.dirs.v1.freezer;
  if (fr !== undefined) return read(`${fr}/freezer.state`)?.trim() === "FROZEN";
  if (m.dirs.unified === undefined) return false;
  return /^frozen 1$/m.test(read(`${m.dirs.unified}/cgroup.events`) ?? "");
}

/** Destroys what is left of a cgroup recorded in a state file (nothing when it is already gone). */
export async function destroyRecordedCgroup(state: v.InferOutput<typeof CgroupStateSchema> | undefined): Promise<void> {
  const m = cgroupOf(state);
  if (m) await m.destroy();
}

/**
 * A foreground container ended: whether the kernel OOM-killed something in it (read before the
 * cgroup goes), then the cgroup is destroyed with anything its init left behind.
 */
export async function finishForegroundCgroup(m: CgroupManager, log: { warn: (m: string) => void }): Promise<boolean> {
  let oom = false;
  try {
    oom = m.oomKilled();
  } catch {
    /* unreadable counters: report no OOM */
  }
  await destroyCgroup(m).catch((e) => log.warn((e as Error).message));
  mark("cgroup: destroyed");
  return oom;
}

/** Whether any directory of the cgroup is still there (a foreground pelagos may remove it concurrently). */
function stillThere(m: CgroupManager): boolean {
  return [m.dirs.unified, ...Object.values(m.dirs.v1)].some((d) => d !== undefined && existsSync(d));
}

/**
 * `op` (killAll or destroy) tolerating the container's own pelagos, which removes the cgroup
 * concurrently once the init died: a failure counts only while some directory is still there.
 */
async function unlessRemoved(m: CgroupManager | undefined, op: (m: CgroupManager) => Promise<void>): Promise<void> {
  if (!m) return;
  try {
    await op(m);
  } catch (e) {
    if (stillThere(m)) throw e;
  }
}

export const killCgroup = (m: CgroupManager | undefined) => unlessRemoved(m, (c) => c.killAll());
export const destroyCgroup = (m: CgroupManager | undefined) => unlessRemoved(m, (c) => c.destroy());

/**
 * For a process started later in a running container (exec): the recorded cgroup with its cgroup2
 * leaf opened for CLONE_INTO_CGROUP (close it with closeDirfd()); v1 hierarchies are joined through openV1Tasks() as for the init.
 */
export function placementFromState(state: v.InferOutput<typeof CgroupStateSchema> | undefined): CgroupManager | undefined {
  const m = cgroupOf(state);
  if (m?.dirs.unified !== undefined) m.dirfd = hostCgroupFs.openDir(m.dirs.unified);
  return m;
}

/** A stored config with the limits last set by `update` (a run container's `resources`), for a restart. */
export function withStoredResources(config: OciConfig, resources: unknown): OciConfig {
  if (resources === undefined) return config;
  return { ...config, linux: { ...config.linux, resources: resources as NonNullable<OciConfig["linux"]>["resources"] } };
}
