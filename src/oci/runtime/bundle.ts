/** Loading and validating `<bundle>/config.json` (the reading is in bundle-read.ts). */
import { parseConfigText, type OciConfig } from "./config.ts";
import { readBundleConfig } from "./bundle-read.ts";

/**
 * Loads and validates the bundle's config.json. `bundle` comes back absolute with symlinks
 * resolved, so it can be recorded in state and compared later.
 */
export function loadBundleConfig(bundleDir: string): { config: OciConfig; bundle: string } {
  const { text, file, bundle } = readBundleConfig(bundleDir);
  return { config: parseConfigText(text, file), bundle };
}
