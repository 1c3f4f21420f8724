/**
 * Everyday verbs for `pelagos run` containers: ps, logs, stop, wait, inspect,
 * restart, attach, cleanup. Thin: parse, call runtime/, print. (kill and
 * start are shared with the OCI verbs: see kill-start.ts.)
 */
import { defineCommand } from "./command.ts";
import { bool, list, str, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";
import { stderr } from "../log/logger.ts";
import type { Observed } from "../runtime/observe.ts";

function names(p: Parsed, verb: string): string[] {
  if (p.positionals.length === 0) throw new UsageError(`"pelagos ${verb}" needs at least one container name`);
  return p.positionals;
}

/** Runs `fn` for each name (all at once with `parallel`, like docker's stop); errors are printed and make the exit status 1. */
async function each(ns: string[], fn: (name: string) => Promise<void>, parallel = false): Promise<number> {
  const { validateName } = await import("../runtime/run-rootfs.ts");
  let failed = 0;
  const one = async (raw: string) => {
    try {
      await fn(validateName(raw));
    } catch (e) {
      failed++;
      stderr(`pelagos: error: ${(e as Error).message}\n`);
    }
  };
  if (parallel) await Promise.all(ns.map(one));
  else for (const raw of ns) await one(raw);
  return failed ? 1 : 0;
}

function seconds(p: Parsed, flag: string): number | undefined {
  const v = str(p, flag);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`Invalid --${flag} "${v}": expected whole seconds`);
  return Number(v);
}

export const ps = defineCommand({
  meta: { name: "ps", description: "List containers started with `pelagos run`" },
  args: {
    all: { type: "boolean", alias: "a", description: "Show stopped containers too" },
    quiet: { type: "boolean", alias: "q", description: "Print only names" },
    format: { type: "string", description: "table (default) or json" },
    filter: { type: "string", alias: "f", multiple: true, description: "name=…, label=KEY[=VALUE], status=…" },
  },
  async run(p: Parsed, ctx: Context) {
    const { observeAll } = await import("../runtime/observe.ts");
    const { formatTable, matches, parseFilters, toRow } = await import("../runtime/ps.ts");
    const format = str(p, "format") ?? "table";
    if (format !== "table" && format !== "json") throw new UsageError(`Invalid --format "${format}": expected table or json`);
    const filters = parseFilters(list(p, "filter"));
    const all = bool(p, "all") || filters.some((f) => f.key === "status");
    const { cgroupOf, isFrozen } = await import("../runtime/cgroup-setup.ts");
    const frozen = (o: Observed) => {
      const m = o.initAlive ? cgroupOf(o.state.cgroup) : undefined;
      return m !== undefined && isFrozen(m);
    };
    const rows = observeAll(ctx.root)
      .map((o) => toRow(o, frozen(o)))
      .filter((r) => (all || r.state === "running" || r.state === "paused") && matches(r, filters));
    if (bool(p, "quiet")) for (const r of rows) console.log(r.name);
    else if (format === "json") console.log(JSON.stringify(rows));
    else console.log(formatTable(rows));
  },
});

export const logs = defineCommand({
  meta: { name: "logs", description: "Print a detached container's output" },
  args: {
    follow: { type: "boolean", alias: "f", description: "Keep printing new output until the container stops" },
    tail: { type: "string", alias: "n", description: "Only the last N lines (or all)" },
    since: { type: "string", description: "Only lines since a time (RFC 3339, Unix time, or 10s/5m/2h ago)" },
    timestamps: { type: "boolean", alias: "t", description: "Prefix each line with its time" },
    name: { type: "positional", description: "Container name" },
  },
  async run(p: Parsed, ctx: Context) {
    if (p.positionals.length !== 1) throw new UsageError(`"pelagos logs" needs exactly one container name`);
    const { validateName } = await import("../runtime/run-rootfs.ts");
    const { loadState, observe } = await import("../runtime/observe.ts");
    const { printLogs, parseSince } = await import("../runtime/logs.ts");
    const { containerDir } = await import("../state/paths.ts");
    const name = validateName(p.positionals[0]!);
    const s = loadState(ctx.root, name);
    if (!s.detached && !s.stdout_log) throw new UsageError(`Container "${name}" ran in the foreground: it has no logs`);
    const tailRaw = str(p, "tail") ?? "all";
    if (tailRaw !== "all" && !/^\d+$/.test(tailRaw)) throw new UsageError(`Invalid --tail "${tailRaw}": expected a number or "all"`);
    const since = str(p, "since");
    await printLogs(
      containerDir(ctx.root, name),
      { follow: bool(p, "follow"), tail: tailRaw === "all" ? undefined : Number(tailRaw), since: since ? parseSince(since) : undefined, timestamps: bool(p, "timestamps") },
      () => {
        const cur = loadState(ctx.root, name);
        const o = observe(ctx.root, cur);
        return o.initAlive || o.ownerAlive;
      },
    );
  },
});

export const stop = defineCommand({
  meta: { name: "stop", description: "Stop containers: the stop signal, then SIGKILL after a timeout" },
  args: {
    time: { type: "string", alias: "t", description: "Seconds to wait before SIGKILL (default: the container's --stop-timeout, or 10)" },
    names: { type: "positional", description: "Container names" },
  },
  async run(p: Parsed, ctx: Context) {
    const { stopOne } = await import("../runtime/control.ts");
    const t = seconds(p, "time");
    return each(names(p, "stop"), async (n) => {
      await stopOne(ctx.root, n, t);
      console.log(n);
    }, true);
  },
});

export const wait = defineCommand({
  meta: { name: "wait", description: "Wait for containers to stop and print their exit codes" },
  args: { names: { type: "positional", description: "Container names" } },
  async run(p: Parsed, ctx: Context) {
    const { waitExit } = await import("../runtime/inspect.ts");
    return each(names(p, "wait"), async (n) => console.log(await waitExit(ctx.root, n)));
  },
});

export const inspect = defineCommand({
  meta: { name: "inspect", description: "Print containers' details as JSON" },
  args: { names: { type: "positional", description: "Container names" } },
  async run(p: Parsed, ctx: Context) {
    const { inspectOne } = await import("../runtime/inspect.ts");
    const out: unknown[] = [];
    const code = await each(names(p, "inspect"), async (n) => void out.push(inspectOne(ctx.root, n)));
    console.log(JSON.stringify(out, null, 2));
    return code;
  },
});

export const restart = defineCommand({
  meta: { name: "restart", description: "Stop and start containers again" },
  args: {
    time: { type: "string", alias: "t", description: "Seconds to wait before SIGKILL" },
    names: { type: "positional", description: "Container names" },
  },
  async run(p: Parsed, ctx: Context) {
    const { restartOne } = await import("../runtime/restart.ts");
    const t = seconds(p, "time");
    return each(names(p, "restart"), async (n) => {
      await restartOne(ctx, n, t);
      console.log(n);
    });
  },
});

export const attach = defineCommand({
  meta: { name: "attach", description: "Follow a detached container's output (and feed its stdin if it runs with -i)" },
  args: {
    "no-stdin": { type: "boolean", description: "Do not forward stdin" },
    name: { type: "positional", description: "Container name" },
  },
  async run(p: Parsed, ctx: Context) {
    if (p.positionals.length !== 1) throw new UsageError(`"pelagos attach" needs exactly one container name`);
    const { attachOne } = await import("../runtime/inspect.ts");
    return attachOne(ctx.root, p.positionals[0]!, { stdin: !bool(p, "no-stdin") });
  },
});

export const cleanup = defineCommand({
  meta: { name: "cleanup", description: "Remove what dead containers left behind" },
  args: {},
  async run(_p: Parsed, ctx: Context) {
    const { sweep } = await import("../runtime/cleanup.ts");
    for (const s of await sweep(ctx)) console.log(`removed ${s.name}: ${s.why}`);
  },
});
