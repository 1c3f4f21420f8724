/**
 * Platforms (`os/arch[/variant]`) and the choice of a manifest from an index:
 * the host's platform by default, `--platform` otherwise. arm64 without a
 * variant means v8, as in containerd's matcher.
 */
import { ImageError } from "./errors.ts";
import type { Descriptor } from "../oci/image/schemas.ts";

export type PlatformSpec = { os: string; architecture: string; variant?: string };

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
const ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", armhf: "arm", i386: "386" };

export function hostPlatform(): PlatformSpec {
  const architecture = ARCH[process.arch] ?? process.arch;
  return architecture === "arm64" ? { os: "linux", architecture, variant: "v8" } : { os: "linux", architecture };
}

export function parsePlatform(s: string): PlatformSpec {
  const parts = s.trim().toLowerCase().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p)))
    throw new ImageError("E_PLATFORM", `Invalid platform "${s}": expected os/arch[/variant], e.g. linux/arm64`);
  const architecture = ALIASES[parts[1]!] ?? parts[1]!;
  const p: PlatformSpec = { os: parts[0]!, architecture };
  if (parts[2]) p.variant = parts[2];
  else if (architecture === "arm64") p.variant = "v8";
  return p;
}

export function formatPlatform(p: { os: string; architecture: string; variant?: string }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

export function platformMatches(have: { os: string; architecture: string; variant?: string }, want: PlatformSpec): boolean {
  if (have.os !== want.os || (ALIASES[have.architecture] ?? have.architecture) !== want.architecture) return false;
  if (!want.variant) return true;
  const hv = have.variant ?? (have.architecture === "arm64" ? "v8" : undefined);
  return hv === undefined || hv === want.variant;
}

/** Picks the index entry for `want`, preferring an exact variant match. */
export function selectManifest(manifests: Descriptor[], want: PlatformSpec, what: string): Descriptor {
  const candidates = manifests.filter((m) => m.platform && platformMatches(m.platform, want));
  const exact = candidates.find((m) => (m.platform!.variant ?? (m.platform!.architecture === "arm64" ? "v8" : undefined)) === want.variant);
  const pick = exact ?? candidates[0];
  if (pick) return pick;
  const noPlatform = manifests.filter((m) => !m.platform);
  if (manifests.length === 1 && noPlatform.length === 1) return noPlatform[0]!;
  const offered = manifests.filter((m) => m.platform).map((m) => formatPlatform(m.platform!));
  throw new ImageError("E_PLATFORM", `Cannot find platform "${formatPlatform(want)}" in ${what}${offered.length ? `: it offers ${offered.join(", ")}` : ""}`);
}
