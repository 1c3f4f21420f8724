/**
 * Every on-disk path, derived from the runtime root (--root, default
 * /run/pelagos) and the data dir. Layout (PELAGOS-REFERENCE §2):
 *   <root>/<id>/state.json, exec.fifo        OCI containers (runc verbs)
 *   <root>/containers/<name>/state.json      containers started with `pelagos run`
 *   <root>/sandboxes/<id>/…                  sandboxes
 */
import { UsageError } from "../errors.ts";

/** Directory names under the root that are not OCI container ids. */
export const RESERVED = new Set(["containers", "sandboxes", "networks", "dns", "compose", "pasta-ns", "locks"]);

export function validateId(id: string, what = "container id"): string {
  if (!id) throw new UsageError(`The ${what} must not be empty`);
  if (id.length > 128) throw new UsageError(`The ${what} "${id.slice(0, 20)}…" is longer than 128 characters`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id) || id.includes(".."))
    throw new UsageError(`Invalid ${what} "${id}": use letters, digits, "_", "." and "-", starting with a letter or digit`);
  if (RESERVED.has(id)) throw new UsageError(`Invalid ${what} "${id}": the name is reserved`);
  return id;
}

export const ociDir = (root: string, id: string) => `${root}/${id}`;
export const ociState = (root: string, id: string) => `${root}/${id}/state.json`;
export const ociFifo = (root: string, id: string) => `${root}/${id}/exec.fifo`;
export const containerDir = (root: string, name: string) => `${root}/containers/${name}`;
export const containerState = (root: string, name: string) => `${root}/containers/${name}/state.json`;
