/**
 * runc-compatible verbs (the OCI runtime command line): create, start, state,
 * kill, delete, list, spec, and run --bundle. Thin: parse, call runtime/, print.
 */
import type { Context } from "./context.ts";
import { defineCommand } from "./command.ts";
import { bool, str, type Parsed } from "./argv.ts";
import { UsageError } from "../errors.ts";

export function oneId(p: Parsed, verb: string): string {
  if (p.positionals.length !== 1) throw new UsageError(`"pelagos ${verb}" needs exactly one container id, got ${p.positionals.length}`);
  return p.positionals[0]!;
}

export function preserveFds(p: Parsed): number {
  const v = str(p, "preserve-fds") ?? "0";
  if (!/^\d+$/.test(v) || Number(v) > 1000) throw new UsageError(`Invalid --preserve-fds "${v}": expected a number from 0 to 1000`);
  return Number(v);
}

export const bundleArgs = {
  bundle: { type: "string", alias: "b", description: "Path to the OCI bundle (default: the current directory)" },
  "pid-file": { type: "string", description: "Write the container's init pid to FILE" },
  "console-socket": { type: "string", description: "Unix socket to send the terminal's master fd to" },
  "preserve-fds": { type: "string", description: "Pass N extra fds (3..3+N-1) to the container" },
  "no-pivot": { type: "boolean", description: "Accepted for runc compatibility (pivot_root is always used)" },
  "no-new-keyring": { type: "boolean", description: "Accepted for runc compatibility" },
} as const;

export const create = defineCommand({
  oci: true,
  meta: { name: "create", description: "Create a container from an OCI bundle (it waits for `start`)" },
  args: { ...bundleArgs, id: { type: "positional", description: "Container id" } },
  async run(p: Parsed, ctx: Context) {
    const { createContainer } = await import("../runtime/oci/create.ts");
    return createContainer(ctx, {
      id: oneId(p, "create"), bundle: str(p, "bundle") ?? ".", pidFile: str(p, "pid-file"),
      consoleSocket: str(p, "console-socket"), preserveFds: preserveFds(p), mode: "create",
    });
  },
});

export const start = defineCommand({
  oci: true,
  meta: { name: "start", description: "Start a created container" },
  args: { id: { type: "positional", description: "Container id" } },
  async run(p: Parsed, ctx: Context) {
    const { startContainer } = await import("../runtime/oci/start.ts");
    await startContainer(ctx, oneId(p, "start"));
  },
});

export const state = defineCommand({
  oci: true,
  meta: { name: "state", description: "Print the OCI state of a container as JSON" },
  args: { id: { type: "positional", description: "Container id" } },
  async run(p: Parsed, ctx: Context) {
    const { loadRecord, ociStateJson } = await import("../runtime/oci-state.ts");
    const { validateId } = await import("../state/paths.ts");
    const r = loadRecord(ctx.root, validateId(oneId(p, "state")));
    console.log(JSON.stringify(ociStateJson(ctx.root, r), null, 2));
  },
});

export const kill = defineCommand({
  oci: true,
  meta: { name: "kill", description: "Send a signal (default SIGTERM) to a container's init" },
  args: {
    all: { type: "boolean", alias: "a", description: "Signal every process of the container" },
    id: { type: "positional", description: "Container id" },
    signal: { type: "positional", required: false, description: "Signal name or number (default SIGTERM)" },
  },
  async run(p: Parsed, ctx: Context) {
    const { killOci, parseSignal } = await import("../runtime/oci/kill.ts");
    if (p.positionals.length < 1 || p.positionals.length > 2) throw new UsageError(`"pelagos kill" needs a container id and an optional signal`);
    await killOci(ctx, p.positionals[0]!, parseSignal(p.positionals[1] ?? "SIGTERM"), { all: bool(p, "all") });
  },
});

export const del = defineCommand({
  oci: true,
  meta: { name: "delete", description: "Delete a container (stopped, or any with --force)" },
  args: {
    force: { type: "boolean", alias: "f", description: "Kill the container first if it is running" },
    id: { type: "positional", description: "Container id" },
  },
  async run(p: Parsed, ctx: Context) {
    const { destroy } = await import("../runtime/oci/delete.ts");
    await destroy(ctx, oneId(p, "delete"), { force: bool(p, "force") });
  },
});

export const list = defineCommand({
  oci: true,
  meta: { name: "list", description: "List OCI containers" },
  args: {
    format: { type: "string", alias: "f", description: "table or json" },
    quiet: { type: "boolean", alias: "q", description: "Print only ids" },
  },
  async run(p: Parsed, ctx: Context) {
    const { listIds, loadRecord, ociStateJson } = await import("../runtime/oci-state.ts");
    const format = str(p, "format") ?? "table";
    if (format !== "table" && format !== "json") throw new UsageError(`Invalid --format "${format}": expected table or json`);
    const rows = listIds(ctx.root).flatMap((id) => {
      try {
        return [ociStateJson(ctx.root, loadRecord(ctx.root, id))];
      } catch {
        return [];
      }
    });
    if (bool(p, "quiet")) for (const r of rows) console.log(r.id);
    else if (format === "json") console.log(JSON.stringify(rows));
    else {
      const table = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
      const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) console.log(row.map((c, i) => c.padEnd(w[i]!)).join("   ").trimEnd());
    }
  },
});

export const spec = defineCommand({
  oci: true,
  meta: { name: "spec", description: "Write a default config.json for a new bundle" },
  args: {
    bundle: { type: "string", alias: "b", description: "Bundle directory (default: the current directory)" },
    rootless: { type: "boolean", description: "A config for a rootless container" },
  },
  async run(p: Parsed) {
    const { defaultSpec } = await import("../oci/runtime/spec-default.ts");
    const { writeFileSync } = await import("node:fs");
    const { resolve } = await import("node:path");
    const file = resolve(str(p, "bundle") ?? ".", "config.json");
    const config = defaultSpec({ rootless: bool(p, "rootless"), hostUid: process.getuid?.(), hostGid: process.getgid?.() });
    try {
      writeFileSync(file, `${JSON.stringify(config, null, "\t")}\n`, { flag: "wx" });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new UsageError(`File "${file}" exists: remove it first`);
      throw new UsageError(`Cannot write "${file}": ${code ?? (e as Error).message}`);
    }
  },
});
