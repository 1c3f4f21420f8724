/**
 * A PID is trusted only together with its start time (field 22 of
 * /proc/PID/stat, in clock ticks since boot): a recycled PID, or a zombie's,
 * never passes for the container.
 */
import { readFileSync } from "node:fs";

export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ")"
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); start time is field 22
  const state = rest[0];
  if (state === "Z" || state === "X") return undefined;
  const start = Number(rest[19]);
  return Number.isFinite(start) ? start : undefined;
}

export type ProcessIdentity = { pid: number; startTime: number };

export function isAlive(id: ProcessIdentity | undefined): boolean {
  if (!id || id.pid <= 0) return false;
  return processStartTime(id.pid) === id.startTime;
}
