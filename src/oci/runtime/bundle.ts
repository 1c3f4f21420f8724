/** Reading `<bundle>/config.json` from disk. The only file in oci/runtime that does I/O. */
import { readFileSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { PelagosError } from "../../errors.ts";
import { parseConfigText, type OciConfig } from "./config.ts";

function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? "EIO";
}

function bundleError(message: string, cause?: unknown): PelagosError {
  return new PelagosError("E_BUNDLE", message, cause === undefined ? undefined : { cause });
}

/**
 * Loads and validates the bundle's config.json. `bundle` comes back absolute with symlinks
 * resolved, so it can be recorded in state and compared later.
 */
export function loadBundleConfig(bundleDir: string): { config: OciConfig; bundle: string } {
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
  return { config: parseConfigText(text, file), bundle };
}
