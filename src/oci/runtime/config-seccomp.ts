/** `linux.seccomp`: the filter description; compiled to BPF elsewhere (src/seccomp). */
import * as v from "valibot";
import { absPath, intIn, obj, oneOf, str, u32, u64 } from "./fields.ts";
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPS } from "./names.ts";

const action = oneOf(SECCOMP_ACTIONS, "a known SCMP_ACT_* action");

export const SeccompArgSchema = obj({
  index: intIn(0, 5, "an integer from 0 to 5"),
  value: u64,
  valueTwo: v.optional(u64),
  op: oneOf(SECCOMP_OPS),
});

export const SeccompSyscallSchema = obj({
  names: v.pipe(
    v.array(v.pipe(str, v.check((s: string) => s.length > 0, "must be a non-empty syscall name"))),
    v.check((a: string[]) => a.length > 0, "must name at least one syscall"),
  ),
  action,
  errnoRet: v.optional(u32),
  args: v.optional(v.array(SeccompArgSchema)),
  // Docker's profile extensions, kept (not dropped as unknown): they make the filter stricter
  // (capability- and arch-gated rules); src/seccomp validates them when it compiles the profile
  includes: v.optional(v.unknown()),
  excludes: v.optional(v.unknown()),
});

export const SeccompSchema = obj({
  defaultAction: action,
  defaultErrnoRet: v.optional(u32),
  architectures: v.optional(v.array(oneOf(SECCOMP_ARCHES, "a known SCMP_ARCH_* architecture"))),
  flags: v.optional(v.array(oneOf(SECCOMP_FLAGS, "a known SECCOMP_FILTER_FLAG_* flag"))),
  listenerPath: v.optional(absPath),
  listenerMetadata: v.optional(str),
  syscalls: v.optional(v.array(SeccompSyscallSchema)),
  archMap: v.optional(v.unknown()),
});

export type OciSeccomp = v.InferOutput<typeof SeccompSchema>;
export type OciSeccompSyscall = v.InferOutput<typeof SeccompSyscallSchema>;
export type OciSeccompArg = v.InferOutput<typeof SeccompArgSchema>;
