import { describe, expect, test } from "bun:test";
import { LineJoiner, parseSince, type LogLine } from "./logs.ts";
import { matches, parseFilters, type PsRow } from "./ps.ts";
import { parseLogOpts } from "./run-detached.ts";
import { DetachKeys } from "./inspect.ts";
import { stopSettings, type RunOptions } from "./run-rootfs.ts";

describe("logs", () => {
  test("CRI records are joined into lines: P continues, F ends", () => {
    const j = new LineJoiner("stdout");
    const out: LogLine[] = [];
    j.push("2026-01-01T00:00:00.000000001Z stdout P abc", out);
    j.push("2026-01-01T00:00:00.000000002Z stdout F def", out);
    j.push("2026-01-01T00:00:00.000000003Z stdout F ", out);
    j.push("garbage", out);
    j.push("2026-01-01T00:00:00.000000004Z stdout P tail", out);
    expect(out).toEqual([
      { ts: "2026-01-01T00:00:00.000000001Z", stream: "stdout", text: "abcdef\n" },
      { ts: "2026-01-01T00:00:00.000000003Z", stream: "stdout", text: "\n" },
    ]);
    j.flush(out);
    expect(out.at(-1)!.text).toBe("tail");
  });
  test("--since accepts RFC 3339, Unix time and durations, in the records' format", () => {
    expect(parseSince("2026-01-02T03:04:05Z")).toBe("2026-01-02T03:04:05.000000000Z");
    expect(parseSince("0")).toBe("1970-01-01T00:00:00.000000000Z");
    expect(parseSince("10s", Date.parse("2026-01-01T00:00:10Z"))).toBe("2026-01-01T00:00:00.000000000Z");
    expect(() => parseSince("yesterday")).toThrow("--since");
  });
});

describe("ps filters", () => {
  const row: PsRow = { name: "web-1", status: "Up", state: "running", pid: 5, command: "sh", created: "", labels: { app: "web", tier: "" }, rootfs: "/" };
  test("same key ORs, different keys AND; label with or without a value", () => {
    expect(matches(row, parseFilters(["name=web"]))).toBe(true);
    expect(matches(row, parseFilters(["name=db", "name=web"]))).toBe(true);
    expect(matches(row, parseFilters(["name=web", "status=exited"]))).toBe(false);
    expect(matches(row, parseFilters(["label=app=web", "label=tier"]))).toBe(true);
    expect(matches(row, parseFilters(["label=app=db"]))).toBe(false);
  });
  test("bad filters are usage errors", () => {
    expect(() => parseFilters(["id=1"])).toThrow("--filter");
    expect(() => parseFilters(["status=frozen"])).toThrow("status");
  });
});

describe("run -d options", () => {
  test("--log-opt max-size and max-file", () => {
    expect(parseLogOpts(["max-size=2k", "max-file=2"])).toEqual({ maxBytes: 2048, maxFiles: 2 });
    expect(parseLogOpts(["max-size=10m"]).maxBytes).toBe(10 * 1024 * 1024);
    expect(() => parseLogOpts(["max-size=1"])).toThrow("at least");
    expect(() => parseLogOpts(["max-file=10"])).toThrow("1 to 9");
    expect(() => parseLogOpts(["mode=non-blocking"])).toThrow("known options");
  });
  test("--stop-signal and --stop-timeout", () => {
    const o = (x: Partial<RunOptions>) => x as RunOptions;
    expect(stopSettings(o({ stopSignal: "USR1", stopTimeout: "5" }))).toEqual({ stop_signal: "USR1", stop_timeout: 5 });
    expect(stopSettings(o({}))).toEqual({});
    expect(() => stopSettings(o({ stopTimeout: "-1" }))).toThrow("seconds");
    expect(() => stopSettings(o({ stopSignal: "SIGNOPE" }))).toThrow("signal");
  });
});

describe("attach detach keys", () => {
  test("^P ^Q detaches, also split across reads; a lone ^P is passed on", () => {
    const k = new DetachKeys();
    expect(k.feed(Uint8Array.from([0x61, 0x10]))).toEqual({ pass: Uint8Array.from([0x61]), detach: false });
    expect(k.feed(Uint8Array.from([0x11, 0x62]))).toEqual({ pass: Uint8Array.from([]), detach: true });
    const j = new DetachKeys();
    expect(j.feed(Uint8Array.from([0x10, 0x61]))).toEqual({ pass: Uint8Array.from([0x10, 0x61]), detach: false });
  });
});
