/**
 * An OCI container's record: <root>/<id>/state.json. Status is derived, never
 * stored: the init process alive (pid + start time) with the exec fifo still
 * there = created; alive without it = running; otherwise stopped.
 */
import { existsSync, readdirSync } from "node:fs";
import * as v from "valibot";
import { StateError } from "../errors.ts";
import { isAlive } from "../state/identity.ts";
import { ociFifo, ociState, RESERVED } from "../state/paths.ts";
import { readJson, writeJsonAtomic } from "../state/store.ts";
import { cgroupOf, CgroupStateSchema, isFrozen } from "./cgroup-setup.ts";

export const OCI_VERSION = "1.2.0";

export const OciRecordSchema = v.strictObject({
  version: v.literal(1),
  id: v.string(),
  bundle: v.string(),
  rootfs: v.string(),
  pid: v.pipe(v.number(), v.integer()),
  pidStartTime: v.number(),
  created: v.string(),
  owner: v.string(),
  annotations: v.record(v.string(), v.string()),
  /** the validated config.json, kept for hooks at start/delete */
  config: v.unknown(),
  /** namespaces the init created (CLONE_NEW* flags), for createContainer hooks and kill --all */
  cloneFlags: v.number(),
  /** the container's cgroup (CgroupManager.state()), destroyed by delete */
  cgroup: v.optional(CgroupStateSchema),
});
export type OciRecord = v.InferOutput<typeof OciRecordSchema>;

export type OciStatus = "creating" | "created" | "running" | "stopped" | "paused";

export function loadRecord(root: string, id: string): OciRecord {
  const r = readJson(ociState(root, id), OciRecordSchema);
  if (!r) throw new StateError("E_NOT_FOUND", `Container "${id}" does not exist`, { exitCode: 1 });
  return r;
}

export function saveRecord(root: string, r: OciRecord): void {
  writeJsonAtomic(ociState(root, r.id), r);
}

export function statusOf(root: string, r: OciRecord): OciStatus {
  if (r.pid === 0) return "creating";
  if (!isAlive({ pid: r.pid, startTime: r.pidStartTime })) return "stopped";
  if (existsSync(ociFifo(root, r.id))) return "created";
  const cg = cgroupOf(r.cgroup);
  return cg && isFrozen(cg) ? "paused" : "running";
}

export function ociStateJson(root: string, r: OciRecord, status = statusOf(root, r)) {
  return {
    ociVersion: OCI_VERSION,
    id: r.id,
    status,
    pid: status === "stopped" ? 0 : r.pid,
    bundle: r.bundle,
    rootfs: r.rootfs,
    created: r.created,
    owner: r.owner,
    ...(Object.keys(r.annotations).length ? { annotations: r.annotations } : {}),
  };
}

export function listIds(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries.filter((e) => !RESERVED.has(e) && !e.startsWith(".") && existsSync(ociState(root, e))).sort();
}
