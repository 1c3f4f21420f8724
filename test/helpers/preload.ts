/**
 * Loaded by bunfig.toml before every `bun test` run (unit or integration).
 * Hooks registered at the top level of a preload file are global (checked with
 * bun 1.4.5): afterAll runs once, after the last test file, and a throw in it is
 * reported as a failed test and makes `bun test` exit non-zero. The snapshot is
 * taken when this file loads, before any test file runs.
 *
 * PELAGOS_LEAK_CHECK:
 *   strict      every leak fails the run (default when CI is set: CI has the machine to itself)
 *   attributed  leaks carrying this run's token fail; unattributable ones are printed
 *               (default elsewhere: parallel sessions on one machine create such things too)
 *   warn        everything is only printed
 *   off         no check
 */
import { afterAll } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkLeaks, formatLeaks, takeSnapshot, type Leak, type Snapshot } from "./leaks.ts";
import { IO_DIR_NAME, pruneStaleRuns, runBasePath, runToken, removeTempDir } from "./tmp.ts";

const MODES = ["strict", "attributed", "warn", "off"] as const;
type Mode = (typeof MODES)[number];
const requested = process.env.PELAGOS_LEAK_CHECK;
if (requested !== undefined && !MODES.includes(requested as Mode)) {
  throw new Error(`Invalid PELAGOS_LEAK_CHECK "${requested}": use one of ${MODES.join(", ")}`);
}
const mode: Mode = (requested as Mode | undefined) ?? (process.env.CI ? "strict" : "attributed");
const fatal = (l: Leak) => mode === "strict" || (mode === "attributed" && l.owner === "ours");

runToken();
pruneStaleRuns();
// Taken when the preload loads, i.e. before any test file's top-level code runs.
const before: Snapshot | undefined = mode === "off" ? undefined : takeSnapshot();

afterAll(async () => {
  const base = runBasePath();
  const io = join(base, IO_DIR_NAME);
  if (existsSync(io)) removeTempDir(io);
  // Waits (up to 2 s) only for what would fail the run: teardown may merely be late.
  const failing = before ? await checkLeaks(before, 2000, fatal) : [];
  const other = before ? (await checkLeaks(before, 0)).filter((l) => !fatal(l)) : [];
  // Leftover temp dirs are reported, then removed (mounts below them detached first).
  removeTempDir(base);
  if (other.length > 0) {
    console.warn(`Leak check (${mode}): ${other.length} new thing(s) not failing the run:\n${formatLeaks(other)}`);
  }
  if (failing.length > 0) {
    throw new Error(
      `Leak check (${mode}): the test run left ${failing.length} thing(s) behind:\n${formatLeaks(failing)}\n` +
        "(PELAGOS_LEAK_CHECK=attributed|warn relaxes this; see test/README.md)",
    );
  }
});
