/** Shared presentation of image records (table columns, JSON shape). */
import { parseReference, familiarName } from "../../image/reference.ts";
import type { ImageRecord } from "../../image/store/images.ts";
import { readLayerMeta } from "../../image/store/layers.ts";

export function imageSize(r: ImageRecord): number {
  const seen = new Set<string>();
  let n = 0;
  for (const l of r.layers) {
    if (seen.has(l.diffId)) continue;
    seen.add(l.diffId);
    n += readLayerMeta(l.diffId)?.size ?? 0;
  }
  return n;
}

export function humanSize(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
}

export function ago(iso: string | undefined): string {
  if (!iso) return "N/A";
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return "N/A";
  if (s < 60) return "Less than a minute ago";
  const steps: [number, string][] = [[3600, "minute"], [86400, "hour"], [86400 * 7, "day"], [86400 * 30, "week"], [86400 * 365, "month"], [Infinity, "year"]];
  let unit = 60;
  for (const [limit, name] of steps) {
    if (s < limit) {
      const n = Math.floor(s / unit);
      return `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
    unit = limit;
  }
  return "N/A";
}

export function repoTag(r: ImageRecord): { repository: string; tag: string } {
  const ref = parseReference(r.reference);
  return { repository: familiarName(ref), tag: ref.tag ?? "<none>" };
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd()).join("\n");
}
