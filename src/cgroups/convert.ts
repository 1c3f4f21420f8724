/** Unit conversions between v1-shaped OCI values and cgroup v2 files, as runc and crun do them. */
import { ConfigError } from "../errors.ts";

/** cpu.shares (2..262144) → cpu.weight (1..10000): runc/crun `1 + ((shares - 2) * 9999) / 262142`, integer division. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  const s = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) → io.weight (1..10000): runc `1 + (weight - 10) * 9999 / 990`. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap (memory+swap, v1 meaning) → memory.swap.max (swap only).
 * Returns -1 for "max", undefined for "leave unset". Mirrors runc's
 * ConvertMemorySwapToCgroupV2Value.
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): number | undefined {
  const mem = limit ?? 0;
  const sw = swap ?? 0;
  if (mem === -1 && sw === 0) return -1;
  if (sw === -1) return -1;
  if (sw === 0) return undefined;
  if (mem === 0 || mem === -1) {
    throw new ConfigError("linux.resources.memory.swap", "cannot set a swap limit without a memory limit");
  }
  if (sw < mem) {
    throw new ConfigError("linux.resources.memory.swap", `memory+swap limit "${sw}" must be at least the memory limit "${mem}"`);
  }
  return sw - mem;
}

/** Formats a limit for a v2 file: negative = "max". */
export function maxValue(n: number): string {
  return n < 0 ? "max" : String(n);
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's RAMInBytes: "512m", "1g", "1.5GB", "100" (bytes). Units are binary. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? "").toLowerCase()];
  if (!m || unit === undefined) throw new ConfigError("", `invalid size "${text}": expected a number with an optional unit (b, k, m, g, t, p)`);
  return Math.floor(Number(m[1]) * unit);
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
export function devNumbers(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}
