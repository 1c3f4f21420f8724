import { defineCommand } from "./command.ts";
import { bool, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: { name: "rm", description: "Remove containers started with `pelagos run`" },
  args: {
    force: { type: "boolean", alias: "f", description: "Kill running containers first" },
    names: { type: "positional", description: "Container names" },
  },
  async run(p: Parsed, ctx: Context) {
    if (p.positionals.length === 0) throw new UsageError(`"pelagos rm" needs at least one container name`);
    const { removeContainers } = await import("../runtime/rm.ts");
    return removeContainers(ctx, p.positionals, { force: bool(p, "force") });
  },
});
