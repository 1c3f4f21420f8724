/** `--security-opt seccomp=PATH`: read and validate a profile file. */
import { readFileSync } from "node:fs";
import { ConfigError, UsageError } from "../errors.ts";
import { parseSeccompProfile, type SeccompProfile } from "./profile-schema.ts";

/**
 * Integers above 2^53 would be rounded by JSON.parse; the reviver sees their source text and
 * keeps them exact as bigint (the schema accepts bigint).
 */
export function parseProfileJson(text: string): unknown {
  return JSON.parse(text, function (_key, value: unknown, ctx?: { source?: string }) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && ctx?.source && /^-?\d+$/.test(ctx.source)) {
      return BigInt(ctx.source);
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}

export function loadSeccompProfileFile(path: string): SeccompProfile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    const what = code === "ENOENT" ? "no such file" : code;
    throw new UsageError(`Cannot read seccomp profile "${path}": ${what}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = parseProfileJson(text);
  } catch (e) {
    throw new ConfigError(path, `Cannot parse seccomp profile as JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseSeccompProfile(raw, path);
}
