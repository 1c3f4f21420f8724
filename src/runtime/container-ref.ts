/**
 * One view of a container for the cgroup verbs (stats, update, pause, unpause):
 * an OCI container by id (<root>/<id>) or a `pelagos run` container by name
 * (<root>/containers/<name>), with its cgroup and its stored limits.
 */
import { existsSync, readdirSync } from "node:fs";
import type { Context } from "../cli/context.ts";
import type { CgroupManager } from "../cgroups/manager.ts";
import type { LinuxResources } from "../cgroups/resources.ts";
import { PelagosError } from "../errors.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import { isAlive } from "../state/identity.ts";
import { containerState, ociState, validateId } from "../state/paths.ts";
import { cgroupOf, isFrozen } from "./cgroup-setup.ts";
import { readContainerState, writeContainerState } from "./container-state.ts";
import { listIds, loadRecord, saveRecord, statusOf } from "./oci-state.ts";

export type ContainerRef = {
  kind: "oci" | "run";
  name: string;
  pid: number;
  status: "created" | "running" | "paused" | "stopped" | "creating" | "exited";
  cgroup: CgroupManager | undefined;
  resources: LinuxResources | undefined;
  /** stores the container's limits (the OCI record's config, or the run record) */
  saveResources(res: LinuxResources): void;
};

function ociRef(ctx: Context, id: string): ContainerRef {
  const r = loadRecord(ctx.root, id);
  const config = r.config as OciConfig;
  return {
    kind: "oci", name: id, pid: r.pid, status: statusOf(ctx.root, r), cgroup: cgroupOf(r.cgroup),
    resources: config.linux?.resources as LinuxResources | undefined,
    saveResources(res) {
      const fresh = loadRecord(ctx.root, id);
      const c = fresh.config as OciConfig;
      fresh.config = { ...c, linux: { ...c.linux, resources: res as NonNullable<OciConfig["linux"]>["resources"] } };
      saveRecord(ctx.root, fresh);
    },
  };
}

function runRef(ctx: Context, name: string): ContainerRef | undefined {
  const s = readContainerState(ctx.root, name);
  if (!s) return undefined;
  const cgroup = cgroupOf(s.cgroup);
  const alive = s.status !== "exited" && isAlive({ pid: s.pid, startTime: s.pid_start_time ?? -1 });
  return {
    kind: "run", name, pid: s.pid, cgroup, resources: s.resources as LinuxResources | undefined,
    status: !alive ? "exited" : cgroup && isFrozen(cgroup) ? "paused" : s.status === "created" ? "created" : "running",
    saveResources(res) {
      const fresh = readContainerState(ctx.root, name);
      if (fresh) writeContainerState(ctx.root, { ...fresh, resources: res });
    },
  };
}

export function findContainer(ctx: Context, ref: string): ContainerRef {
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(ref) && !ref.includes("..")) {
    if (existsSync(ociState(ctx.root, ref))) return ociRef(ctx, validateId(ref));
    if (existsSync(containerState(ctx.root, ref))) {
      const r = runRef(ctx, ref);
      if (r) return r;
    }
  }
  throw new PelagosError("E_NOT_FOUND", `No such container: "${ref}"`, { exitCode: 1 });
}

/** Every container whose init is alive (OCI ids, then `pelagos run` names). */
export function liveContainers(ctx: Context): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const id of listIds(ctx.root)) {
    try {
      const r = ociRef(ctx, id);
      if (r.status === "running" || r.status === "paused" || r.status === "created") out.push(r);
    } catch {
      /* being deleted */
    }
  }
  let names: string[] = [];
  try {
    names = readdirSync(`${ctx.root}/containers`);
  } catch {
    /* none */
  }
  for (const n of names.sort()) {
    const r = (() => {
      try {
        return runRef(ctx, n);
      } catch {
        return undefined;
      }
    })();
    if (r && r.status !== "exited") out.push(r);
  }
  return out;
}

/** Resources merged the way `update` means them: sections replace field by field, lists replace. */
export function mergeResources(base: LinuxResources | undefined, patch: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    const prev = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && prev && typeof prev === "object" && !Array.isArray(prev) ? { ...prev, ...v } : v;
  }
  return out as LinuxResources;
}
