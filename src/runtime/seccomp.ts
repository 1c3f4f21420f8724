/** Compiles the config's seccomp profile for the launch plan (placeholder until the compiler lands). */
import type { OciConfig } from "../oci/runtime/config.ts";
import type { HostFacts } from "../plan/host.ts";
import { ConfigError } from "../errors.ts";

export function compileSeccompFor(
  config: OciConfig,
  _host: HostFacts,
  _log?: { warn: (m: string) => void; debug: (m: string) => void },
): { filter: Uint8Array; flags: number } | undefined {
  if (config.linux?.seccomp) throw new ConfigError("linux.seccomp", "seccomp profiles are not supported yet");
  return undefined;
}
