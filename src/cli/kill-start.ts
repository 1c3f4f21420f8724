/**
 * `kill` and `start` are both OCI runtime verbs (runc's `kill [--all] ID
 * [SIGNAL]`, `start ID` for <root>/<id>) and docker verbs for `pelagos run`
 * containers (`kill [-s SIG] NAME...`, `start [-a] NAME...`). The first name
 * decides: a record in <root>/containers/<name> means docker semantics.
 */
import { existsSync } from "node:fs";
import { defineCommand } from "./command.ts";
import { bool, str, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";
import { stderr } from "../log/logger.ts";
import { containerState } from "../state/paths.ts";
import * as oci from "./oci.ts";

function isRunContainer(ctx: Context, p: Parsed): boolean {
  const first = p.positionals[0];
  return first !== undefined && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(first) && existsSync(containerState(ctx.root, first));
}

async function each(ctx: Context, ns: string[], fn: (name: string) => Promise<void>): Promise<number> {
  const { validateName } = await import("../runtime/run-rootfs.ts");
  ctx.failureExit = 125;
  let failed = 0;
  for (const raw of ns) {
    try {
      await fn(validateName(raw));
    } catch (e) {
      failed++;
      stderr(`pelagos: error: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export default defineCommand({
  meta: { name: "kill", description: "Send a signal to containers (`kill -s SIG NAME...`, or OCI `kill [--all] ID [SIGNAL]`)" },
  args: {
    ...oci.kill.args,
    signal: { type: "string", alias: "s", description: "Signal for `pelagos run` containers (default SIGKILL)" },
  },
  async run(p: Parsed, ctx: Context) {
    if (!isRunContainer(ctx, p)) {
      if (str(p, "signal") !== undefined) throw new UsageError(`No such container: "${p.positionals[0] ?? ""}"`);
      ctx.failureExit = 1;
      return oci.kill.run!(p, ctx);
    }
    const { parseSignal } = await import("../runtime/oci/kill.ts");
    const { signalInit } = await import("../runtime/control.ts");
    const { loadState, observe } = await import("../runtime/observe.ts");
    const sig = parseSignal(str(p, "signal") ?? "SIGKILL");
    return each(ctx, p.positionals, async (n) => {
      const s = loadState(ctx.root, n);
      if (observe(ctx.root, s).status !== "running" || !signalInit(s, sig))
        throw new UsageError(`Cannot kill container "${n}": it is not running`);
      console.log(n);
    });
  },
});

export const start = defineCommand({
  meta: { name: "start", description: "Start stopped `pelagos run` containers again (or an OCI container created with `create`)" },
  args: {
    attach: { type: "boolean", alias: "a", description: "Follow the output and return the exit code (one container)" },
    id: { type: "positional", description: "Container names, or one OCI id" },
  },
  async run(p: Parsed, ctx: Context) {
    if (!isRunContainer(ctx, p)) {
      if (bool(p, "attach")) throw new UsageError(`No such container: "${p.positionals[0] ?? ""}"`);
      ctx.failureExit = 1;
      return oci.start.run!(p, ctx);
    }
    const { startAgain } = await import("../runtime/restart.ts");
    if (bool(p, "attach")) {
      if (p.positionals.length !== 1) throw new UsageError(`"pelagos start -a" takes one container name`);
      const { attachOne } = await import("../runtime/inspect.ts");
      if (await each(ctx, p.positionals, (n) => startAgain(ctx, n))) return 1;
      return attachOne(ctx.root, p.positionals[0]!, { stdin: true, fromStart: true });
    }
    return each(ctx, p.positionals, async (n) => {
      await startAgain(ctx, n);
      console.log(n);
    });
  },
});
