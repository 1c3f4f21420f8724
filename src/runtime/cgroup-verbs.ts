/** pause, unpause and update: the cgroup verbs that change a container (OCI id or run name). */
import { readFileSync } from "node:fs";
import * as v from "valibot";
import type { Context } from "../cli/context.ts";
import { type DockerResourceFlags, dockerResources } from "../cgroups/docker-flags.ts";
import type { CgroupManager } from "../cgroups/manager.ts";
import type { LinuxResources } from "../cgroups/resources.ts";
import { ConfigError, PelagosError, StateError, UsageError } from "../errors.ts";
import { ResourcesSchema } from "../oci/runtime/config-resources.ts";
import { withLock } from "./lock.ts";
import { type ContainerRef, findContainer, mergeResources } from "./container-ref.ts";

function needCgroup(c: ContainerRef, verb: string): CgroupManager {
  if (!c.cgroup) throw new StateError("E_STATE", `Cannot ${verb} container "${c.name}": it has no cgroup (created by an older pelagos)`, { exitCode: 1 });
  return c.cgroup;
}

async function locked<T>(ctx: Context, c: ContainerRef, fn: () => Promise<T>): Promise<T> {
  return c.kind === "oci" ? withLock(ctx.root, c.name, fn) : fn();
}

export async function pauseContainer(ctx: Context, ref: string, paused: boolean): Promise<void> {
  const c = findContainer(ctx, ref);
  const verb = paused ? "pause" : "unpause";
  await locked(ctx, c, async () => {
    const want = paused ? "running" : "paused";
    if (c.status !== want && !(paused && c.status === "created"))
      throw new StateError("E_STATE", `Cannot ${verb} container "${c.name}": it is ${c.status}, not ${want}`, { exitCode: 1 });
    const cg = needCgroup(c, verb);
    await (paused ? cg.freeze() : cg.thaw());
  });
}

/** `-r FILE` (or "-" for stdin): a JSON LinuxResources, validated like config.json's. */
export function readResourcesFile(path: string): LinuxResources {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e) {
    throw new UsageError(`Cannot read --resources "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError("", `cannot parse "${path}" as JSON`);
  }
  const r = v.safeParse(ResourcesSchema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    const where = (issue.path ?? []).map((p) => String(p.key)).join(".");
    throw new ConfigError(where, issue.message);
  }
  return r.output as LinuxResources;
}

/**
 * runc-style `update`: the limits given (flags, or a resources file) are applied to the live cgroup and
 * merged into the stored limits, so a later start applies them again.
 */
export async function updateContainer(ctx: Context, ref: string, o: { flags?: DockerResourceFlags; file?: string }): Promise<void> {
  const patch: LinuxResources = o.file !== undefined ? readResourcesFile(o.file) : {};
  if (o.flags) Object.assign(patch, mergeResources(patch, dockerResources(o.flags)));
  if (Object.keys(patch).length === 0) throw new UsageError(`"pelagos update" needs at least one limit (e.g. --memory 256m) or --resources FILE`);
  const c = findContainer(ctx, ref);
  await locked(ctx, c, async () => {
    if (c.status === "stopped" || c.status === "exited")
      throw new StateError("E_STATE", `Cannot update container "${c.name}": it is ${c.status}`, { exitCode: 1 });
    const cg = needCgroup(c, "update");
    await applyOrdered(cg, patch);
    c.saveResources(mergeResources(c.resources, patch));
  });
}

/**
 * v1 checks memory.limit_in_bytes <= memory.memsw.limit_in_bytes on every write: raising both
 * needs the memsw limit written first, lowering both the memory limit first.
 */
async function applyOrdered(cg: CgroupManager, patch: LinuxResources): Promise<void> {
  const mem = patch.memory;
  const memDir = cg.dirs.v1.memory;
  if (memDir && mem?.limit !== undefined && mem.swap !== undefined && mem.swap !== 0) {
    let current = 0;
    try {
      current = Number(readFileSync(`${memDir}/memory.memsw.limit_in_bytes`, "utf8").trim());
    } catch {
      /* no swap accounting: the order does not matter */
    }
    if (current !== 0 && (mem.swap === -1 || mem.limit > current)) {
      await cg.update({ memory: { swap: mem.swap, swapIsDefault: mem.swapIsDefault } });
    }
  }
  try {
    await cg.update(patch);
  } catch (e) {
    if (e instanceof PelagosError) throw e;
    throw new PelagosError("E_CGROUP", `Cannot update the container's limits: ${(e as Error).message}`);
  }
}
