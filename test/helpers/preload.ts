/**
 * Loaded by bunfig.toml before every `bun test` run (unit or integration).
 * Hooks registered at the top level of a preload file are global (checked with
 * bun 1.4.5): afterAll runs once, after the last test file, and a throw in it is
 * reported as a failed test and makes `bun test` exit non-zero. The snapshot is
 * taken when this file loads, before any test file runs.
 *
 * PELAGOS_LEAK_CHECK=strict (default) fails the run on leaks, =warn only prints
 * them, =off skips the check.
 */
import { afterAll } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkLeaks, formatLeaks, takeSnapshot, type Snapshot } from "./leaks.ts";
import { IO_DIR_NAME, pruneStaleRuns, runBasePath, runToken, removeTempDir } from "./tmp.ts";

const mode = process.env.PELAGOS_LEAK_CHECK ?? "strict";
runToken();
pruneStaleRuns();
// Taken when the preload loads, i.e. before any test file's top-level code runs.
const before: Snapshot | undefined = mode === "off" ? undefined : takeSnapshot();

afterAll(async () => {
  const base = runBasePath();
  const io = join(base, IO_DIR_NAME);
  if (existsSync(io)) removeTempDir(io);
  const leaks = before ? await checkLeaks(before) : [];
  // Leftover temp dirs are reported above, then removed (mounts below them detached first).
  removeTempDir(base);
  if (leaks.length > 0) {
    const text = `Leak check: the test run left ${leaks.length} thing(s) behind:\n${formatLeaks(leaks)}`;
    if (mode === "strict") throw new Error(`${text}\n(set PELAGOS_LEAK_CHECK=warn to only report)`);
    console.warn(text);
  }
});
