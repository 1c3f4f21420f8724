/**
 * The container's seccomp filter, compiled for the launch plan: the config's
 * linux.seccomp (OCI bundles; `pelagos run` puts Docker's default profile
 * there unless told otherwise). The filter is the last thing the init loads.
 */
import { release } from "node:os";
import type { OciConfig } from "../oci/runtime/config.ts";
import type { HostFacts } from "../plan/host.ts";
import { ConfigError } from "../errors.ts";
import { compileSeccomp } from "../seccomp/compile.ts";
import { parseSeccompProfile } from "../seccomp/profile-schema.ts";

export function kernelVersion(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export function compileSeccompFor(
  config: OciConfig,
  host: HostFacts,
  log?: { warn: (m: string) => void; debug: (m: string) => void },
): { filter: Uint8Array; flags: number } | undefined {
  const raw = config.linux?.seccomp;
  if (!raw) return undefined;
  const profile = parseSeccompProfile(raw, "linux.seccomp");
  const c = compileSeccomp(profile, {
    arch: host.arch,
    capabilities: [...(config.process?.capabilities?.bounding ?? [])],
    kernel: kernelVersion(),
    log: (m) => log?.debug(m),
  });
  if (c.needsListener)
    throw new ConfigError("linux.seccomp.listenerPath", "seccomp user notification (SCMP_ACT_NOTIFY) is not supported yet");
  if (c.skipped.length) log?.debug(`seccomp: syscalls unknown on ${host.arch}, skipped: ${c.skipped.join(", ")}`);
  return { filter: c.filter, flags: c.flags };
}
