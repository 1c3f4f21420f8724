/**
 * Reading `<bundle>/config.json` from disk, unvalidated: no schema is loaded
 * here, so a caller that already validated the same text (plan-cache.ts)
 * never pays for the schemas. The only I/O in oci/runtime, with bundle.ts.
 */
import { readFileSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { PelagosError } from "../../errors.ts";

function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? "EIO";
}

function bundleError(message: string, cause?: unknown): PelagosError {
  return new PelagosError("E_BUNDLE", message, cause === undefined ? undefined : { cause });
}

/**
 * The text of the bundle's config.json (parseConfigText() validates it). `bundle` comes back
 * absolute with symlinks resolved, so it can be recorded in state and compared later.
 */
export function readBundleConfig(bundleDir: string): { text: string; file: string; bundle: string } {
  let bundle: string;
  try {
    bundle = realpathSync(resolve(bundleDir));
  } catch (e) {
    const reason = errnoCode(e) === "ENOENT" ? "no such directory" : errnoCode(e);
    throw bundleError(`Cannot open bundle "${bundleDir}": ${reason}`, e);
  }
  if (!statSync(bundle).isDirectory()) throw bundleError(`Cannot open bundle "${bundleDir}": not a directory`);
  const file = `${bundle}/config.json`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const reason = errnoCode(e) === "ENOENT" ? "no such file" : errnoCode(e);
    throw bundleError(`Cannot read "${file}": ${reason}`, e);
  }
  return { text, file, bundle };
}
