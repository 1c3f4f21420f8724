/**
 * One consola instance, built from --log, --log-format and --debug. Errors are
 * printed once, by main.ts, as `pelagos: error: …` on stderr, and as a JSON
 * line ({level, msg, time}, the keys runc and crun write) to --log when the
 * format is json, so containerd and podman can read them.
 */
// consola/core: the full "consola" entry costs ~20 ms of start-up (its fancy reporter); we bring our own.
// And only when something is logged: most commands log nothing, and loading it costs every start.
import type { ConsolaInstance } from "consola/core";
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

/** What pelagos logs with: consola's methods, the instance made on the first message that is shown. */
export type Logger = Pick<ConsolaInstance, "debug" | "info" | "warn" | "error">;

type LoggerOptions = { file?: string; format: "text" | "json"; debug: boolean };

export function createLogger(o: LoggerOptions): Logger {
  let inst: ConsolaInstance | undefined;
  const get = () => (inst ??= consolaFor(o));
  return {
    debug: (m: unknown, ...a: unknown[]) => void (o.debug && get().debug(m, ...a)),
    info: (m: unknown, ...a: unknown[]) => void (o.debug && get().info(m, ...a)), // shown from level debug only: no consola otherwise
    warn: (m: unknown, ...a: unknown[]) => get().warn(m, ...a),
    error: (m: unknown, ...a: unknown[]) => get().error(m, ...a),
  } as Logger;
}

function consolaFor(o: LoggerOptions): ConsolaInstance {
  // a synchronous import: the bundler evaluates the module on this first call only
  const { createConsola, LogLevels } = require("consola/core") as typeof import("consola/core");
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
