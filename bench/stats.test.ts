import { expect, test } from "bun:test";
import { median, percentile, summarize } from "./stats.ts";

test("median() of odd and even sample counts", () => {
  expect(median([1, 2, 9])).toBe(2);
  expect(median([1, 2, 4, 9])).toBe(3);
  expect(median([])).toBeNaN();
});

test("percentile() uses the nearest rank", () => {
  const s = Array.from({ length: 10 }, (_, i) => i + 1);
  expect(percentile(s, 90)).toBe(9);
  expect(percentile(s, 100)).toBe(10);
  expect(percentile(s, 0)).toBe(1);
  expect(percentile([5], 90)).toBe(5);
});

test("summarize() sorts a copy", () => {
  const samples = [3, 1, 2];
  expect(summarize(samples)).toEqual({ n: 3, min: 1, median: 2, p90: 3, mean: 2, max: 3 });
  expect(samples).toEqual([3, 1, 2]);
});
