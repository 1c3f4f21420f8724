/** `process` of config.json: what runs in the container and with which identity and limits. */
import * as v from "valibot";
import { absPath, bool, envList, i32, id32, intIn, obj, oneOf, str, strArray, u32, u64 } from "./fields.ts";
import { CAPABILITIES, IOPRIO_CLASSES, RLIMITS, SCHED_FLAGS, SCHED_POLICIES } from "./names.ts";

const capList = v.array(oneOf(CAPABILITIES, "a known capability"));

export const CapabilitiesSchema = obj({
  bounding: v.optional(capList),
  effective: v.optional(capList),
  inheritable: v.optional(capList),
  permitted: v.optional(capList),
  ambient: v.optional(capList),
});

export const RlimitSchema = obj({
  type: oneOf(RLIMITS, "a known RLIMIT_* name"),
  soft: u64,
  hard: u64,
});

export const UserSchema = obj({
  uid: id32,
  gid: id32,
  umask: v.optional(intIn(0, 0o7777, "a mode from 0 to 0o7777")),
  additionalGids: v.optional(v.array(id32)),
  username: v.optional(str),
});

export const SchedulerSchema = obj({
  policy: oneOf(SCHED_POLICIES),
  nice: v.optional(i32),
  priority: v.optional(i32),
  flags: v.optional(v.array(oneOf(SCHED_FLAGS))),
  runtime: v.optional(u64),
  deadline: v.optional(u64),
  period: v.optional(u64),
});

export const IoPrioritySchema = obj({
  class: oneOf(IOPRIO_CLASSES),
  priority: v.optional(intIn(0, 7, "an integer from 0 to 7")),
});

export const ProcessSchema = obj({
  terminal: v.optional(bool),
  consoleSize: v.optional(obj({ height: u32, width: u32 })),
  user: UserSchema,
  args: v.pipe(
    strArray,
    v.check((a: string[]) => a.length > 0, "must contain at least one entry (the program to run)"),
  ),
  env: v.optional(envList),
  cwd: absPath,
  capabilities: v.optional(CapabilitiesSchema),
  rlimits: v.optional(v.array(RlimitSchema)),
  noNewPrivileges: v.optional(bool),
  oomScoreAdj: v.optional(intIn(-1000, 1000, "an integer from -1000 to 1000")),
  apparmorProfile: v.optional(str),
  selinuxLabel: v.optional(str),
  ioPriority: v.optional(IoPrioritySchema),
  scheduler: v.optional(SchedulerSchema),
  execCPUAffinity: v.optional(obj({ initial: v.optional(str), final: v.optional(str) })),
});

export type OciProcess = v.InferOutput<typeof ProcessSchema>;
export type OciUser = v.InferOutput<typeof UserSchema>;
export type OciCapabilities = v.InferOutput<typeof CapabilitiesSchema>;
export type OciRlimit = v.InferOutput<typeof RlimitSchema>;
export type OciScheduler = v.InferOutput<typeof SchedulerSchema>;
export type OciIoPriority = v.InferOutput<typeof IoPrioritySchema>;
