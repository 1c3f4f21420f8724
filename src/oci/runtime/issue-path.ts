/** Turns a valibot issue into the JSON path we show users: `mounts[2].destination`. */
import type * as v from "valibot";

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Appends one key to a JSON path: `.name`, `[3]`, or `["odd key"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  if (IDENT.test(key)) return base === "" ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

export function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    path = joinPath(path, typeof key === "number" ? key : String(key));
  }
  return path;
}
