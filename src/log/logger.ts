/**
 * One consola instance, built from --log, --log-format and --debug. Errors are
 * printed once, by main.ts, as `pelagos: error: …` on stderr, and as a JSON
 * line ({level, msg, time}, the keys runc and crun write) to --log when the
 * format is json, so containerd and podman can read them.
 */
// consola/core: the full "consola" entry costs ~20 ms of start-up (its fancy reporter); we bring our own
import { createConsola, type ConsolaInstance, LogLevels } from "consola/core";
import { appendFileSync, writeSync } from "node:fs";
import type { Context } from "../cli/context.ts";

/** A plain write(2): process.stderr would load node's stream machinery (~2 ms of start-up). */
export function stderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    /* stderr closed */
  }
}

export function createLogger(o: { file?: string; format: "text" | "json"; debug: boolean }): ConsolaInstance {
  const level = o.debug ? LogLevels.debug : LogLevels.warn;
  return createConsola({
    level,
    reporters: [
      {
        log(obj) {
          const msg = obj.args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
          const lvl = obj.type === "log" ? "info" : obj.type;
          if (o.file) {
            const line =
              o.format === "json"
                ? `${JSON.stringify({ level: lvl, msg, time: new Date().toISOString() })}\n`
                : `${new Date().toISOString()} ${lvl}: ${msg}\n`;
            try {
              appendFileSync(o.file, line);
            } catch {
              stderr(`pelagos: ${lvl}: ${msg}\n`);
            }
          } else stderr(`pelagos: ${lvl}: ${msg}\n`);
        },
      },
    ],
  });
}

export function logError(ctx: Context, message: string, details?: Record<string, unknown>): void {
  const extra = details?.cleanupErrors ? `\n  while cleaning up: ${(details.cleanupErrors as string[]).join("; ")}` : "";
  stderr(`pelagos: error: ${message}${extra}\n`);
  if (ctx.logFile) {
    const line =
      ctx.logFormat === "json"
        ? `${JSON.stringify({ level: "error", msg: message, time: new Date().toISOString() })}\n`
        : `${new Date().toISOString()} error: ${message}\n`;
    try {
      appendFileSync(ctx.logFile, line);
    } catch {
      /* stderr already has it */
    }
  }
}
