import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../errors.ts";
import { parseState, stateJson, type OciState } from "./state.ts";

const running: OciState = { ociVersion: "1.2.0", id: "web", status: "running", pid: 4242, bundle: "/b/web", annotations: { a: "b" } };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseState()", () => {
  test("accepts every status", () => {
    for (const status of ["creating", "created", "running", "stopped", "paused"] as const) {
      expect(parseState({ ...running, status }).status).toBe(status);
    }
  });

  test("accepts runc's stopped state with pid 0 and ignores unknown fields", () => {
    const s = parseState({ ociVersion: "1.0.2-dev", id: "x", status: "stopped", pid: 0, bundle: "/b", rootfs: "/b/rootfs", created: "2024-01-01T00:00:00Z", owner: "" });
    expect(s).toEqual({ ociVersion: "1.0.2-dev", id: "x", status: "stopped", pid: 0, bundle: "/b" });
  });

  test("rejects an unknown status", () => {
    expect(message(() => parseState({ ...running, status: "exited" }))).toBe(
      'Invalid config at status: must be one of "creating", "created", "running", "stopped", "paused", got "exited"',
    );
  });

  test("requires a pid when created or running", () => {
    const { pid: _, ...noPid } = running;
    expect(message(() => parseState(noPid))).toBe("Invalid config at pid: must be a positive process ID when status is created or running");
    expect(message(() => parseState({ ...running, status: "created", pid: 0 }))).toBe(
      "Invalid config at pid: must be a positive process ID when status is created or running",
    );
  });

  test("rejects a relative bundle and an empty id", () => {
    expect(message(() => parseState({ ...running, bundle: "b" }))).toBe('Invalid config at bundle: must be an absolute path, got "b"');
    expect(message(() => parseState({ ...running, id: "" }))).toBe("Invalid config at id: must not be empty");
  });
});

describe("stateJson()", () => {
  test("writes the spec's keys in order and round-trips", () => {
    const text = stateJson(running);
    expect(text).toBe('{"ociVersion":"1.2.0","id":"web","status":"running","pid":4242,"bundle":"/b/web","annotations":{"a":"b"}}');
    expect(parseState(JSON.parse(text))).toEqual(running);
  });

  test("omits pid and annotations when absent (the hook state of a creating container)", () => {
    expect(stateJson({ ociVersion: "1.2.0", id: "c", status: "creating", bundle: "/b" })).toBe(
      '{"ociVersion":"1.2.0","id":"c","status":"creating","bundle":"/b"}',
    );
  });
});
