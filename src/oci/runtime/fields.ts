/**
 * Building blocks shared by the OCI schemas. Every check carries its own message in the
 * house style ("must be …, got …"); type mismatches and missing keys fall back to
 * `defaultMessage`, which parse functions pass in the valibot config.
 */
import * as v from "valibot";

/** A short, quoted rendering of an offending value for error messages. */
export function show(x: unknown): string {
  if (typeof x === "string") {
    const s = JSON.stringify(x.length > 80 ? `${x.slice(0, 77)}...` : x);
    return s;
  }
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") return String(x);
  if (x === null) return "null";
  if (x === undefined) return "nothing";
  if (Array.isArray(x)) return "an array";
  return `an ${typeof x}`;
}

const EXPECTS: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  Object: "an object",
  Array: "an array",
};

/** Fallback message for issues raised by valibot's own type checks. */
export function defaultMessage(issue: v.BaseIssue<unknown>): string {
  const last = issue.path?.[issue.path.length - 1];
  if (issue.type === "object" && last?.origin === "key" && issue.input === undefined) return "is required";
  const expected = issue.expected === null ? "valid" : (EXPECTS[issue.expected] ?? issue.expected);
  return `must be ${expected}, got ${show(issue.input)}`;
}

/** Valibot options for every OCI parse: stop at the first issue (we report one). */
export const PARSE_OPTIONS: v.Config<v.BaseIssue<unknown>> = { abortEarly: true, message: defaultMessage };

export const str = v.string();
export const bool = v.boolean();
export const strArray = v.array(str);

export function isAbsPath(s: string): boolean {
  return s.charCodeAt(0) === 47 /* "/" */ && !s.includes("\0");
}

/**
 * Leaf checks are single `v.custom` schemas rather than `pipe(type, check)`: one step per value
 * instead of three keeps parseConfig cheap, and the message covers the wrong-type case too.
 */
export const absPath = v.custom<string>(
  (x) => typeof x === "string" && isAbsPath(x),
  (i) => `must be an absolute path, got ${show(i.input)}`,
);

/** An integer in [min, max]. */
export function intIn(min: number, max: number, what: string) {
  return v.custom<number>(
    (n) => typeof n === "number" && Number.isInteger(n) && n >= min && n <= max,
    (i) => `must be ${what}, got ${show(i.input)}`,
  );
}

export const U32_MAX = 4294967295;
export const u32 = intIn(0, U32_MAX, "an integer from 0 to 4294967295");
export const i32 = intIn(-2147483648, 2147483647, "a 32-bit signed integer");
/**
 * A uid or gid. 4294967295 is (uid_t)-1, which setuid/setgid/chown treat as "leave unchanged":
 * accepting it would silently keep the caller's identity (the CVE-2024-40635 class).
 */
export const id32 = intIn(0, U32_MAX - 1, "an ID from 0 to 4294967294");
/**
 * JSON numbers are doubles: u64/i64 values above 2^53 lose precision and 2^64-1 (RLIM_INFINITY,
 * "unlimited") arrives as 2^64. The bounds accept those rounded extremes.
 */
export const u64 = intIn(0, 2 ** 64, "a non-negative integer");
export const i64 = intIn(-(2 ** 63), 2 ** 63, "a 64-bit integer");

/** A closed set of strings; the message lists the allowed values (short lists) or names the kind. */
export function oneOf<const T extends readonly string[]>(options: T, what?: string) {
  const expected = what ?? `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
  const set: ReadonlySet<unknown> = new Set(options);
  return v.custom<T[number]>((x) => set.has(x), (i) => `must be ${expected}, got ${show(i.input)}`);
}

function isEnvEntry(s: unknown): boolean {
  return typeof s === "string" && s.indexOf("=") > 0 && !s.includes("\0");
}

/** "KEY=value": a non-empty key, and no NUL byte (execve would silently truncate it). */
export const envEntry = v.custom<string>(isEnvEntry, (i) => `must be "KEY=value" without NUL bytes, got ${show(i.input)}`);
export const envList = v.array(envEntry);


const notArray = v.custom<Record<string, unknown>>(
  (x) => typeof x === "object" && x !== null && !Array.isArray(x),
  (i) => `must be an object, got ${show(i.input)}`,
);

/** `v.object` alone takes an array for an object (typeof [] is "object"); this one does not. */
export function obj<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(notArray, v.object(entries));
}

/** `v.record` has the same blind spot for arrays. */
export function rec<
  K extends v.BaseSchema<string, string | number | symbol, v.BaseIssue<unknown>>,
  V extends v.BaseSchema<unknown, unknown, v.BaseIssue<unknown>>,
>(key: K, value: V) {
  return v.pipe(notArray, v.record(key, value));
}

export const strMap = rec(str, str);

export const idMapping = obj({
  containerID: id32,
  hostID: id32,
  size: intIn(1, U32_MAX, "an integer from 1 to 4294967295"),
});
export type OciIdMapping = v.InferOutput<typeof idMapping>;
