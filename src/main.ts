/**
 * Entry point: global flags → context → command → exit status. The only
 * place that reports an error to the user and the only process.exit.
 */
import type { CommandDef } from "citty";
import { readdirSync } from "node:fs";
import { PelagosError } from "./errors.ts";
import { SysError, errnoDescription, errnoNumber } from "../ffi/errno.ts";
import { parseFlags } from "./cli/argv.ts";
import type { Command } from "./cli/command.ts";
import { DEFAULT_ROOT, type Context } from "./cli/context.ts";
import { root as rootCommand } from "./cli/index.ts";
import { createLogger, logError } from "./log/logger.ts";

import { VERSION } from "./version.ts";
import { mark } from "./log/timing.ts";

const GLOBAL_FLAGS = new Set(["--root", "--log", "--log-format", "--debug", "--systemd-cgroup"]);

function splitGlobals(argv: string[]): { globals: string[]; rest: string[] } {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    const key = a.split("=")[0]!;
    if (!GLOBAL_FLAGS.has(key)) break;
    globals.push(a);
    if (!a.includes("=") && key !== "--debug" && key !== "--systemd-cgroup") globals.push(argv[++i] ?? "");
    i++;
  }
  return { globals, rest: argv.slice(i) };
}

async function usage(cmd: Command, parent?: Command): Promise<string> {
  const { renderUsage } = await import("citty"); // only for --help: keeps it off every start
  return renderUsage(cmd as unknown as CommandDef, parent as unknown as CommandDef);
}

async function main(argv: string[]): Promise<number> {
  const { globals, rest } = splitGlobals(argv);
  const g = parseFlags(globals, {
    root: { type: "string" },
    log: { type: "string" },
    "log-format": { type: "string" },
    debug: { type: "boolean" },
    "systemd-cgroup": { type: "boolean" },
  });
  const logFormat = (g.flags["log-format"] as string | undefined) ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    console.error(`pelagos: error: Invalid --log-format "${logFormat}": expected text or json`);
    return 125;
  }
  const ctx: Context = {
    root: (g.flags.root as string | undefined) ?? DEFAULT_ROOT,
    rootGiven: g.flags.root !== undefined,
    logFile: g.flags.log as string | undefined,
    logFormat,
    debug: g.flags.debug === true,
    failureExit: 125,
    log: createLogger({ file: g.flags.log as string | undefined, format: logFormat, debug: g.flags.debug === true }),
  };
  if (g.flags["systemd-cgroup"] === true) ctx.log.debug("--systemd-cgroup given: pelagos manages cgroupfs directly");

  // Walk to the subcommand.
  let cmd: Command = rootCommand;
  let parent: Command | undefined;
  let args = rest;
  while (cmd.subCommands && args.length > 0 && !args[0]!.startsWith("-")) {
    const load = cmd.subCommands[args[0]!];
    if (!load) {
      if (cmd.run) break;
      console.error(`pelagos: error: Unknown command "${args[0]}"${cmd === rootCommand ? "" : ` for "${cmd.meta.name}"`}`);
      console.error(`Run 'pelagos ${cmd === rootCommand ? "" : `${cmd.meta.name} `}--help' for usage`);
      return 125;
    }
    parent = cmd;
    cmd = await load();
    args = args.slice(1);
  }
  // --help and --version (only before a trailing command's program arguments)
  const maybeHelp = args.includes("--help") || args.includes("-h") || args.includes("--version") || args.includes("-v");
  const own = cmd.trailing && maybeHelp ? args.slice(0, firstPositional(args, cmd)) : args;
  const hAlias = Object.values(cmd.args ?? {}).some((d) => d.alias === "h" || (Array.isArray(d.alias) && d.alias.includes("h")));
  const wantsHelp = own.includes("--help") || (!hAlias && own.includes("-h"));
  if (wantsHelp || (!cmd.run && args.length === 0)) {
    console.log(await usage(cmd, parent));
    return wantsHelp || args.length === 0 ? 0 : 125;
  }
  if (cmd === rootCommand && (own.includes("--version") || own.includes("-v"))) {
    console.log(`pelagos version ${VERSION}`);
    return 0;
  }
  if (!cmd.run) {
    console.error(`pelagos: error: Unknown command "${args[0]}"`);
    return 125;
  }
  try {
    mark(`command ${cmd.meta.name} loaded`);
    if (cmd.oci) ctx.failureExit = 1;
    const parsed = parseFlags(args, cmd.args ?? {}, { stopAtPositional: cmd.trailing });
    // OCI verbs (runc's interface) never touch `pelagos run` containers: no sweep on their path.
    if (cmd.meta.name !== "cleanup" && !cmd.oci) await sweepDead(ctx);
    return (await cmd.run(parsed, ctx)) ?? 0;
  } catch (e) {
    return reportError(e, ctx);
  }
}

/**
 * Every command starts by removing what dead `pelagos run` containers left
 * (runtime/cleanup.ts decides what is dead, under each name's lock). Cheap
 * when there is nothing: one readdir, and the sweep's code loads only if
 * there are containers at all. A failed sweep never fails the command.
 */
async function sweepDead(ctx: Context): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(`${ctx.root}/containers`);
  } catch {
    return;
  }
  if (names.length === 0) return;
  try {
    const { sweep } = await import("./runtime/cleanup.ts");
    for (const s of await sweep(ctx)) ctx.log.debug(`cleanup: removed ${s.name}: ${s.why}`);
  } catch (e) {
    ctx.log.debug(`cleanup: ${(e as Error).message}`);
  }
}

function firstPositional(args: string[], cmd: Command): number {
  const defs = cmd.args ?? {};
  const valued = new Set<string>();
  for (const [name, d] of Object.entries(defs)) {
    if ((d as { type: string }).type !== "string") continue;
    valued.add(`--${name}`);
    const al = (d as { alias?: string | string[] }).alias;
    for (const a of al === undefined ? [] : Array.isArray(al) ? al : [al]) valued.add(a.length === 1 ? `-${a}` : `--${a}`);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return i;
    if (!a.startsWith("-")) return i;
    if (valued.has(a)) i++;
  }
  return args.length;
}

function reportError(e: unknown, ctx: Context): number {
  if (e instanceof PelagosError) {
    logError(ctx, e.message, e.details);
    return e.exitCode === 125 ? ctx.failureExit : e.exitCode;
  }
  if (e instanceof SysError) {
    logError(ctx, e.message);
    return ctx.failureExit;
  }
  // A failed system call of node:fs (ENOSPC, EACCES…): the call and the object, like a SysError, not a stack.
  const ne = e as { code?: unknown; syscall?: unknown; path?: unknown; errno?: unknown };
  if (typeof ne?.code === "string" && /^E[A-Z0-9]+$/.test(ne.code) && typeof ne.syscall === "string") {
    const n = errnoNumber(ne.code);
    logError(ctx, `${ne.syscall}${typeof ne.path === "string" ? ` "${ne.path}"` : ""}: ${ne.code}${n === undefined ? "" : ` (${errnoDescription(n)})`}`);
    return ctx.failureExit;
  }
  logError(ctx, `Internal error: ${(e as Error)?.stack ?? String(e)}`);
  return ctx.failureExit;
}

mark("main");
const code = await main(process.argv.slice(2));
mark("exit");
process.exit(code);
