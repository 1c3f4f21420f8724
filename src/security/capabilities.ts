/**
 * `--cap-add`, `--cap-drop`, `--privileged` → the container's capability set.
 * Docker's rules: names with or without "CAP_", any case; "ALL"; drops are
 * applied first, then adds (so `--cap-drop ALL --cap-add NET_RAW` keeps one).
 * Pure: the capabilities the runtime holds come in as numbers.
 */
import * as K from "../../ffi/consts.ts";
import { UsageError } from "../errors.ts";

export type CapName = (typeof K.CAPABILITIES)[number];

/** Docker's default set (moby oci/caps/defaults.go), in moby's order. */
export const DEFAULT_CAPS: readonly CapName[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** "net_admin", "CAP_NET_ADMIN", "Net_Admin" → "CAP_NET_ADMIN"; "all" → "ALL". */
export function normalizeCapName(raw: string, flag: string): CapName | "ALL" {
  const up = raw.trim().toUpperCase();
  if (up === "ALL" || up === "CAP_ALL") return "ALL";
  const name = up.startsWith("CAP_") ? up : `CAP_${up}`;
  if (!(K.CAPABILITIES as readonly string[]).includes(name))
    throw new UsageError(`Invalid ${flag} "${raw}": unknown capability (see capabilities(7), e.g. NET_ADMIN)`);
  return name as CapName;
}

export type CapRequest = { add: readonly string[]; drop: readonly string[]; privileged: boolean };

/**
 * The final set, in kernel order. "All" means every capability the runtime
 * itself holds (`own`, by number): asking the kernel for one it lacks fails.
 */
export function resolveCapabilities(r: CapRequest, own: readonly number[]): CapName[] {
  const held = new Set(own.filter((c) => c < K.CAPABILITIES.length).map((c) => K.CAPABILITIES[c]!));
  const adds = r.add.map((c) => normalizeCapName(c, "--cap-add"));
  const drops = r.drop.map((c) => normalizeCapName(c, "--cap-drop"));
  let set = new Set<CapName>(r.privileged ? held : DEFAULT_CAPS);
  if (drops.includes("ALL")) set.clear();
  for (const d of drops) if (d !== "ALL") set.delete(d);
  if (adds.includes("ALL")) set = new Set([...set, ...held]);
  for (const a of adds) {
    if (a === "ALL") continue;
    if (!held.has(a)) throw new UsageError(`Cannot add capability "${a}": pelagos itself does not hold it on this host`);
    set.add(a);
  }
  return K.CAPABILITIES.filter((c) => set.has(c));
}
