/**
 * A `pelagos run` container's record: <root>/containers/<name>/state.json,
 * in the original's layout (PELAGOS-REFERENCE §2.4; optional fields omitted,
 * never null), plus the init's start time so a recycled pid is never taken
 * for the container.
 */
import * as v from "valibot";
import { containerState } from "../state/paths.ts";
import { readJson, writeJsonAtomic } from "../state/store.ts";
import { CgroupStateSchema } from "./cgroup-setup.ts";

export const ContainerStateSchema = v.strictObject({
  name: v.string(),
  rootfs: v.string(),
  status: v.picklist(["created", "running", "exited"]),
  pid: v.pipe(v.number(), v.integer()),
  pid_start_time: v.optional(v.number()),
  watcher_pid: v.pipe(v.number(), v.integer()),
  watcher_start_time: v.optional(v.number()),
  started_at: v.string(),
  finished_at: v.optional(v.string()),
  exit_code: v.optional(v.number()),
  command: v.array(v.string()),
  hostname: v.optional(v.string()),
  labels: v.record(v.string(), v.string()),
  rm: v.optional(v.boolean()),
  /** the container's cgroup while it exists (destroyed when the container exits or is removed) */
  cgroup: v.optional(CgroupStateSchema),
  /** linux.resources as last set (run flags, then `pelagos update`) */
  resources: v.optional(v.unknown()),
  oom_killed: v.optional(v.boolean()),
  /** the image reference, for containers run from an image; its writable layer is under the data dir */
  image: v.optional(v.string()),
  /** detached (`run -d`): watcher_pid is the supervisor, which writes exit.json */
  detached: v.optional(v.boolean()),
  init: v.optional(v.boolean()),
  interactive: v.optional(v.boolean()),
  stop_signal: v.optional(v.string()),
  stop_timeout: v.optional(v.number()),
  log_max_bytes: v.optional(v.number()),
  log_max_files: v.optional(v.number()),
  /** CLONE_NEW* flags of the namespaces the container created (informational: exec derives them from config.json) */
  clone_flags: v.optional(v.number()),
  /** cgroup leaf dirs about to be made (cgroup-claim.ts): what `cleanup` removes if the start died */
  cgroup_claim: v.optional(v.array(v.string())),
  /** how to start it again (`start`): an image's overlay, a user namespace pelagos set up */
  launch: v.optional(
    v.strictObject({
      overlay: v.optional(v.strictObject({ lower: v.array(v.string()), upper: v.string(), work: v.string() })),
      idmap_rootfs: v.optional(v.boolean()),
      userns_auto: v.optional(v.number()),
    }),
  ),
  /** starts after the first (`start`, `restart`): such a record is never an abandoned claim */
  restart_count: v.optional(v.pipe(v.number(), v.integer())),
  stdout_log: v.optional(v.string()),
  stderr_log: v.optional(v.string()),
});
export type ContainerState = v.InferOutput<typeof ContainerStateSchema>;

export function readContainerState(root: string, name: string): ContainerState | undefined {
  return readJson(containerState(root, name), ContainerStateSchema);
}

export function writeContainerState(root: string, s: ContainerState): void {
  writeJsonAtomic(containerState(root, s.name), s);
}
