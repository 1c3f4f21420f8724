/**
 * The container's seccomp filter, compiled for the launch plan: the config's
 * linux.seccomp (OCI bundles; `pelagos run` puts Docker's default profile
 * there unless told otherwise). The filter is the last thing the init loads.
 *
 * Compiled filters are cached (like crun) under the runtime root, keyed by a
 * hash of everything the compilation depends on: a container with the same
 * profile, capabilities and kernel starts without loading the compiler at all.
 */
import { mkdirSync, readFileSync } from "node:fs";
import type { OciConfig } from "../oci/runtime/config.ts";
import type { HostFacts } from "../plan/host.ts";
import { ConfigError } from "../errors.ts";
import { writeFileAtomic } from "../state/store.ts";
import { sha256Hex } from "../state/random.ts";

const CACHE_VERSION = 1;

/** From /proc (node:os would load a module on every start for this one string). */
export function kernelVersion(): [number, number] {
  let release = "";
  try {
    release = readFileSync("/proc/sys/kernel/osrelease", "utf8");
  } catch {
    // no /proc: treated as an unknown, old kernel
  }
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export type CompiledFilter = { filter: Uint8Array; flags: number };

export async function compileSeccompFor(
  config: OciConfig,
  host: HostFacts,
  log?: { warn: (m: string) => void; debug: (m: string) => void },
  cacheDir?: string,
): Promise<CompiledFilter | undefined> {
  const raw = config.linux?.seccomp;
  if (!raw) return undefined;
  const capabilities = [...(config.process?.capabilities?.bounding ?? [])];
  const kernel = host.kernel ?? kernelVersion();
  const key = cacheDir
    ? sha256Hex(JSON.stringify([CACHE_VERSION, raw, host.arch, capabilities, kernel]))
    : undefined;
  if (key) {
    const hit = readCache(`${cacheDir}/${key}`);
    if (hit) return hit;
  }
  const { compileSeccomp } = await import("../seccomp/compile.ts");
  const { parseSeccompProfile } = await import("../seccomp/profile-schema.ts");
  const profile = parseSeccompProfile(raw, "linux.seccomp");
  const c = compileSeccomp(profile, { arch: host.arch, capabilities, kernel, log: (m) => log?.debug(m) });
  if (c.needsListener)
    throw new ConfigError("linux.seccomp.listenerPath", "seccomp user notification (SCMP_ACT_NOTIFY) is not supported yet");
  if (c.skipped.length)
    log?.debug(`seccomp: ${c.skipped.length} syscall names the profile lists do not exist on ${host.arch} (skipped; they cannot be called)`);
  if (key) writeCache(`${cacheDir}/${key}`, c, log);
  return { filter: c.filter, flags: c.flags };
}

/** A cache entry: u32 flags, then the filter (8-byte instructions). Anything else is a miss. */
function readCache(path: string): CompiledFilter | undefined {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return undefined;
  }
  if (b.length < 12 || (b.length - 4) % 8 !== 0) return undefined;
  return { flags: b.readUInt32LE(0), filter: new Uint8Array(b.subarray(4)) };
}

function writeCache(path: string, c: CompiledFilter, log?: { debug: (m: string) => void }): void {
  try {
    mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
    const b = Buffer.alloc(4 + c.filter.length);
    b.writeUInt32LE(c.flags, 0);
    b.set(c.filter, 4);
    writeFileAtomic(path, b, 0o600);
  } catch (e) {
    log?.debug(`seccomp: cannot cache the filter: ${(e as Error).message}`);
  }
}
