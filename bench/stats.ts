/** Small order statistics for benchmark samples (milliseconds). */

export type Summary = { n: number; min: number; median: number; p90: number; mean: number; max: number };

/** Nearest-rank percentile (p in 0..100) of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    median: median(s),
    p90: percentile(s, 90),
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
  };
}
