/**
 * PELAGOS_TIMING=1: prints how long each phase of a command took (stderr),
 * measured from process start. For finding start-up cost; off by default.
 */
import { writeSync } from "node:fs";

const on = process.env.PELAGOS_TIMING === "1";


export function mark(what: string): void {
  if (on) writeSync(2, `pelagos timing: ${performance.now().toFixed(2)} ms ${what}\n`);
}

