/** `pelagos ps`: rows derived from each record (observe.ts), filtered and formatted. */
import { UsageError } from "../errors.ts";
import type { Observed } from "./observe.ts";

export type PsRow = {
  name: string;
  status: string;
  state: Observed["status"] | "paused";
  pid: number;
  exitCode?: number;
  command: string;
  created: string;
  finishedAt?: string;
  labels: Record<string, string>;
  rootfs: string;
  image?: string;
};

export type PsFilter = { key: "name" | "label" | "status"; value: string };

export function parseFilters(raw: string[]): PsFilter[] {
  return raw.map((f) => {
    const eq = f.indexOf("=");
    const key = f.slice(0, eq);
    if (eq <= 0 || !["name", "label", "status"].includes(key))
      throw new UsageError(`Invalid --filter "${f}": expected name=…, label=KEY[=VALUE] or status=…`);
    const value = f.slice(eq + 1);
    if (key === "status" && !["created", "running", "paused", "exited", "dead"].includes(value))
      throw new UsageError(`Invalid --filter "${f}": status is created, running, paused, exited or dead`);
    return { key: key as PsFilter["key"], value };
  });
}

export function toRow(o: Observed, paused = false): PsRow {
  const s = o.state;
  return {
    name: s.name, state: paused ? "paused" : o.status, status: describe(o) + (paused ? " (Paused)" : ""), pid: o.initAlive ? s.pid : 0, exitCode: o.exitCode,
    command: s.command.join(" "), created: s.started_at, finishedAt: o.finishedAt, labels: s.labels, rootfs: s.rootfs,
    ...(s.image ? { image: s.image } : {}),
  };
}

/** docker's rule per key: values of one key are ORed, different keys ANDed; name matches a substring. */
export function matches(r: PsRow, filters: PsFilter[]): boolean {
  const by = new Map<string, PsFilter[]>();
  for (const f of filters) by.set(f.key, [...(by.get(f.key) ?? []), f]);
  for (const [key, fs] of by) {
    const ok = fs.some((f) => {
      if (key === "name") return r.name.includes(f.value);
      if (key === "status") return r.state === f.value;
      const eq = f.value.indexOf("=");
      const k = eq < 0 ? f.value : f.value.slice(0, eq);
      return k in r.labels && (eq < 0 || r.labels[k] === f.value.slice(eq + 1));
    });
    if (!ok) return false;
  }
  return true;
}

function ago(iso: string | undefined, now: number): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} second${s === 1 ? "" : "s"}`;
  if (s < 3600) return `${Math.round(s / 60)} minutes`;
  if (s < 172800) return `${Math.round(s / 3600)} hours`;
  return `${Math.round(s / 86400)} days`;
}

function describe(o: Observed, now = Date.now()): string {
  if (o.status === "running") return `Up ${ago(o.state.started_at, now)}`;
  if (o.status === "created") return "Created";
  if (o.status === "dead") return "Dead";
  return `Exited (${o.exitCode ?? "?"}) ${ago(o.finishedAt, now)} ago`;
}

export function formatTable(rows: PsRow[]): string {
  const cut = (t: string) => (t.length > 30 ? `${t.slice(0, 29)}…` : t);
  const table = [
    ["NAME", "IMAGE", "STATUS", "PID", "COMMAND", "CREATED"],
    ...rows.map((r) => [r.name, r.image ?? "-", r.status, String(r.pid || ""), cut(r.command), r.created]),
  ];
  const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => c.padEnd(w[i]!)).join("   ").trimEnd()).join("\n");
}
