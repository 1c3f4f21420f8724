/**
 * The seccomp profile as Docker (profiles/seccomp/default.json) and the OCI runtime spec
 * (linux.seccomp) write it. One schema accepts both shapes: Docker adds `archMap`, the legacy
 * single `name`, `comment` and `includes`/`excludes`; OCI has only `architectures`.
 */
import * as v from "valibot";
import { ConfigError } from "../errors.ts";
import { ACTION_NAMES, FILTER_FLAGS } from "./actions.ts";

import { SECCOMP_OPS } from "../oci/runtime/names.ts";

export const OPERATORS = SECCOMP_OPS;
export type Operator = (typeof OPERATORS)[number];

const U64_MAX = (1n << 64n) - 1n;

/** Missing keys and wrong types in the house style ("is required", "must be ..., got ..."). */
const fallbackMessage = (issue: v.BaseIssue<unknown>) =>
  issue.type === "object" && issue.received === "undefined" && issue.expected?.startsWith('"')
    ? "is required"
    : `must be ${KINDS[issue.expected ?? ""] ?? issue.expected}, got ${issue.received}`;
const KINDS: Record<string, string> = { Object: "an object", Array: "an array", string: "a string", number: "a number" };
const oneOf = (options: readonly string[]) => (issue: v.BaseIssue<unknown>) =>
  `must be one of ${options.join(", ")}, got ${issue.received}`;
const typed = (what: string) => (issue: v.BaseIssue<unknown>) => `must be ${what}, got ${issue.received}`;

/** JSON numbers above 2^53 are rounded by JSON.parse; accept them only as bigint or string. */
function toU64(raw: number | bigint | string): bigint | string {
  if (typeof raw === "number") {
    if (!Number.isInteger(raw) || raw < 0) return `must be an unsigned 64-bit integer, got ${raw}`;
    if (!Number.isSafeInteger(raw)) return `${raw} is above 2^53 and was rounded by the JSON parser: write it as a string`;
    return BigInt(raw);
  }
  if (typeof raw === "string") {
    if (!/^(0|[1-9][0-9]*|0[xX][0-9a-fA-F]+)$/.test(raw)) return `must be an unsigned 64-bit integer, got "${raw}"`;
    raw = BigInt(raw);
  }
  if (raw < 0n || raw > U64_MAX) return `must be an unsigned 64-bit integer, got ${raw}`;
  return raw;
}

const U64Schema = v.pipe(
  v.union([v.number(), v.bigint(), v.string()], typed("an unsigned 64-bit integer")),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const r = toU64(dataset.value);
    if (typeof r === "string") {
      addIssue({ message: r });
      return NEVER;
    }
    return r;
  }),
);

const ErrnoSchema = v.pipe(
  v.number("must be a number"),
  v.integer("must be an integer"),
  v.minValue(0, "must be between 0 and 65535"),
  v.maxValue(65535, "must be between 0 and 65535"),
);

const ArgSchema = v.object({
  index: v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(0, "must be 0 to 5"), v.maxValue(5, "must be 0 to 5")),
  value: U64Schema,
  valueTwo: v.optional(U64Schema),
  op: v.picklist(OPERATORS, oneOf(OPERATORS)),
});

const KernelSchema = v.pipe(v.string(), v.regex(/^\d+\.\d+(\.\d+)?$/, 'must look like "4.8"'));

/** Docker's rule gates: `caps` all present / any present, `arches` by GOARCH name, `minKernel`. */
const FilterSchema = v.object({
  caps: v.nullish(v.array(v.string())),
  arches: v.nullish(v.array(v.string())),
  minKernel: v.nullish(KernelSchema),
});

const SyscallSchema = v.object({
  names: v.nullish(v.array(v.pipe(v.string(), v.minLength(1, "must not be empty")))),
  name: v.nullish(v.pipe(v.string(), v.minLength(1, "must not be empty"))),
  action: v.picklist(ACTION_NAMES, oneOf(ACTION_NAMES)),
  errnoRet: v.nullish(ErrnoSchema),
  args: v.nullish(v.array(ArgSchema)),
  comment: v.nullish(v.string()),
  includes: v.nullish(FilterSchema),
  excludes: v.nullish(FilterSchema),
});

const ArchSchema = v.pipe(v.string(), v.regex(/^SCMP_ARCH_[A-Z0-9_]+$/, 'must be an SCMP_ARCH_* name'));
const FlagNames = Object.keys(FILTER_FLAGS);

export const SeccompProfileSchema = v.object({
  defaultAction: v.picklist(ACTION_NAMES, oneOf(ACTION_NAMES)),
  defaultErrnoRet: v.nullish(ErrnoSchema),
  architectures: v.nullish(v.array(ArchSchema)),
  archMap: v.nullish(
    v.array(v.object({ architecture: ArchSchema, subArchitectures: v.nullish(v.array(ArchSchema)) })),
  ),
  flags: v.nullish(v.array(v.picklist(FlagNames, oneOf(FlagNames)))),
  listenerPath: v.nullish(v.string()),
  listenerMetadata: v.nullish(v.string()),
  syscalls: v.nullish(v.array(SyscallSchema)),
});

export type SeccompProfile = v.InferOutput<typeof SeccompProfileSchema>;
export type SeccompSyscallRule = NonNullable<SeccompProfile["syscalls"]>[number];
export type SeccompArg = NonNullable<SeccompSyscallRule["args"]>[number];

function issuePath(base: string, issue: v.BaseIssue<unknown>): string {
  let p = base;
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    p += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  }
  return p;
}

const takesErrno = (action: string) => action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE";

/** Validates a profile; throws ConfigError naming the JSON path of the first problem. */
export function parseSeccompProfile(raw: unknown, jsonPath = "linux.seccomp"): SeccompProfile {
  const res = v.safeParse(SeccompProfileSchema, raw, { message: fallbackMessage });
  if (!res.success) {
    const issue = res.issues[0];
    throw new ConfigError(issuePath(jsonPath, issue), issue.message);
  }
  const p = res.output;
  if (p.architectures && p.architectures.length > 0 && p.archMap && p.archMap.length > 0) {
    throw new ConfigError(jsonPath, 'Cannot use both "architectures" and "archMap"');
  }
  if (p.defaultAction === "SCMP_ACT_NOTIFY") {
    // runc refuses it too: the runtime itself must still be able to write() after loading.
    throw new ConfigError(`${jsonPath}.defaultAction`, 'Cannot use "SCMP_ACT_NOTIFY" as the default action');
  }
  if (p.defaultErrnoRet != null && !takesErrno(p.defaultAction)) {
    throw new ConfigError(`${jsonPath}.defaultErrnoRet`, `Cannot set an errno for "${p.defaultAction}"`);
  }
  (p.syscalls ?? []).forEach((rule, i) => {
    const at = `${jsonPath}.syscalls[${i}]`;
    if (rule.name != null && rule.names != null && rule.names.length > 0) {
      throw new ConfigError(at, 'Cannot use both "name" and "names"');
    }
    if (rule.name == null && rule.names == null) throw new ConfigError(`${at}.names`, "must list at least one syscall");
    if (rule.errnoRet != null && !takesErrno(rule.action)) {
      throw new ConfigError(`${at}.errnoRet`, `Cannot set an errno for "${rule.action}"`);
    }
    if (rule.action === "SCMP_ACT_NOTIFY" && ruleNames(rule).includes("write")) {
      throw new ConfigError(`${at}.action`, 'Cannot use "SCMP_ACT_NOTIFY" for "write": the runtime needs it after loading the filter');
    }
  });
  return p;
}

export function ruleNames(rule: SeccompSyscallRule): string[] {
  return rule.names ?? (rule.name != null ? [rule.name] : []);
}
