import { defineCommand } from "./command.ts";
import { bool, str, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: { name: "stats", description: "Show containers' resource usage (CPU, memory, network and block I/O, pids)" },
  args: {
    "no-stream": { type: "boolean", description: "Print one sample and exit" },
    format: { type: "string", description: "table (default) or json (one object per line)" },
    names: { type: "positional", required: false, description: "Container names or ids (default: every running container)" },
  },
  async run(p: Parsed, ctx: Context) {
    const format = str(p, "format") ?? "table";
    if (format !== "table" && format !== "json") throw new UsageError(`Invalid --format "${format}": expected table or json`);
    const { showStats } = await import("../runtime/stats.ts");
    return showStats(ctx, { names: p.positionals, stream: !bool(p, "no-stream"), format });
  },
});
