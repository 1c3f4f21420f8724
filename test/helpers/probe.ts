/**
 * The /probe helper (test/probe/probe.c): where its binary is, building it when
 * build.ts has not, and parsing what it prints.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./tmp.ts";

export const PROBE_SOURCE = join(REPO_ROOT, "test/probe/probe.c");

/** Path of the probe binary: $PELAGOS_PROBE, or build/probe (compiled on demand). */
export function probeBinary(): string {
  const override = process.env.PELAGOS_PROBE;
  if (override) return override;
  const out = join(REPO_ROOT, "build/probe");
  if (!existsSync(out) || statSync(out).mtimeMs < newestSourceMtime()) compileProbe(out);
  return out;
}

function newestSourceMtime(): number {
  const dir = join(REPO_ROOT, "test/probe");
  const files = readdirSync(dir).filter((f) => f.endsWith(".c") || f.endsWith(".inc"));
  return Math.max(...files.map((f) => statSync(join(dir, f)).mtimeMs));
}

/** Same command as build.ts; compiled to a temp name and renamed so concurrent runs never see half a file. */
function compileProbe(out: string): void {
  mkdirSync(join(REPO_ROOT, "build"), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = process.env.CC ?? "cc";
  const r = Bun.spawnSync([cc, "-static", "-O2", "-Wall", "-o", tmp, PROBE_SOURCE], { cwd: REPO_ROOT });
  if (r.exitCode !== 0) {
    throw new Error(`Cannot compile the test probe with "${cc}" (static glibc from libc6-dev needed): ${r.stderr.toString()}`);
  }
  renameSync(tmp, out);
}

/** Parses `key=value` lines (later keys win; lines without "=" are skipped; \r\n from a pty is fine). */
export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  // Terminal output may carry stray control bytes (a runtime's raw-mode echo): drop them.
  for (const line of text.replace(/[\x00-\x08\x0b-\x1f]/g, (c) => (c === "\r" ? c : "")).split(/\r?\n/)) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Capability names by bit number (linux/capability.h), for decoding CapEff & co. */
export { CAPABILITIES as CAP_NAMES } from "../../ffi/consts.ts";
import { CAPABILITIES as CAP_NAMES } from "../../ffi/consts.ts";

/** Decodes a hex capability mask from /proc/PID/status into sorted names (unknown bits as CAP_<n>). */
export function decodeCaps(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  const out: string[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    if ((mask >> bit) & 1n) out.push(CAP_NAMES[Number(bit)] ?? `CAP_${bit}`);
  }
  return out.sort();
}

/** Decodes a hex signal mask (SigIgn/SigBlk/SigCgt) into signal numbers. */
export function decodeSigMask(hex: string): number[] {
  const mask = BigInt(`0x${hex.trim()}`);
  const out: number[] = [];
  for (let bit = 0n; bit < 64n; bit++) if ((mask >> bit) & 1n) out.push(Number(bit) + 1);
  return out;
}
