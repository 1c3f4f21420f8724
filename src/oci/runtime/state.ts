/**
 * The OCI state document: what `pelagos state <id>` prints, and what every hook reads on
 * stdin (runtime-spec runtime.md "State" and config.md "POSIX-platform Hooks").
 */
import * as v from "valibot";
import { ConfigError } from "../../errors.ts";
import { absPath, intIn, obj, oneOf, PARSE_OPTIONS, strMap } from "./fields.ts";
import { issuePath } from "./issue-path.ts";

/** `paused` is a runc extension the spec allows ("additional values MAY be defined"). */
export const STATUSES = ["creating", "created", "running", "stopped", "paused"] as const;
export type OciStatus = (typeof STATUSES)[number];

const nonEmpty = v.pipe(
  v.string(),
  v.check((s: string) => s.length > 0, "must not be empty"),
);

export const StateSchema = v.pipe(
  obj({
    ociVersion: nonEmpty,
    id: nonEmpty,
    status: oneOf(STATUSES),
    // runc prints pid 0 for a stopped container; accept it as "no process".
    pid: v.optional(intIn(0, 2 ** 31 - 1, "a process ID")),
    bundle: absPath,
    annotations: v.optional(strMap),
  }),
  // runtime.md: pid is REQUIRED when status is created or running on Linux.
  v.forward(
    v.partialCheck(
      [["status"], ["pid"]],
      (s) => (s.status !== "created" && s.status !== "running") || (s.pid !== undefined && s.pid > 0),
      "must be a positive process ID when status is created or running",
    ),
    ["pid"],
  ),
);

export type OciState = v.InferOutput<typeof StateSchema>;

/** Hooks receive exactly the state document on stdin. */
export const HookStateSchema = StateSchema;
export type OciHookState = OciState;

/** Validates a state document (e.g. one read back from another runtime or a test). */
export function parseState(raw: unknown): OciState {
  const result = v.safeParse(StateSchema, raw, PARSE_OPTIONS);
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new ConfigError(issuePath(issue), issue.message);
}

/** Serialises state in the spec's key order; `pid` is omitted when unknown (creating/stopped). */
export function stateJson(state: OciState): string {
  const out: Record<string, unknown> = { ociVersion: state.ociVersion, id: state.id, status: state.status };
  if (state.pid !== undefined) out.pid = state.pid;
  out.bundle = state.bundle;
  if (state.annotations !== undefined) out.annotations = state.annotations;
  return JSON.stringify(out);
}
