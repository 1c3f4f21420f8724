import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { writeContainerState, type ContainerState } from "./container-state.ts";
import { isStaleClaim } from "./observe.ts";

let root = "";
afterEach(() => rmSync(root, { recursive: true, force: true }));

// pid 2^22 - 1 with a start time nothing has: a process that is gone
const gone = { pid: 4194303, pid_start_time: 1, watcher_pid: 4194302, watcher_start_time: 1 };
const record = (over: Partial<ContainerState> = {}): ContainerState => ({
  name: "c1", rootfs: "/x", status: "created", started_at: "2026-11-29T00:00:00Z", command: ["sleep", "1"], labels: {}, detached: true,
  ...gone, ...over,
});

describe("isStaleClaim", () => {
  test("a detached start that never reached its supervisor is stale; one its supervisor took over (exit.json) is not", () => {
    root = mkdtempSync(`${tmpdir()}/pelagos-observe-`);
    mkdirSync(`${root}/containers/c1`, { recursive: true });
    const s = record();
    writeContainerState(root, s);
    expect(isStaleClaim(root, s)).toBe(true);
    // killed between the hand-over ("go") and writing "running": the container ran and exited
    writeFileSync(`${root}/containers/c1/exit.json`, JSON.stringify({ exitCode: 137, signal: 9, finishedAt: "2026-11-29T00:00:01Z", oomKilled: false }));
    expect(isStaleClaim(root, s)).toBe(false);
  });
});
