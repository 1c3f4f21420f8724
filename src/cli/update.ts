import { defineCommand } from "./command.ts";
import { str, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";
import { resourceArgs, resourceFlags } from "./cgroup-flags.ts";

export default defineCommand({
  meta: { name: "update", description: "Change a running container's resource limits (runc and docker flags)" },
  args: {
    ...resourceArgs,
    "cpu-share": { type: "string", description: "runc's name for --cpu-shares" },
    resources: { type: "string", alias: "r", description: "JSON file with OCI linux.resources (\"-\" for stdin)" },
    id: { type: "positional", description: "Container id or name" },
  },
  async run(p: Parsed, ctx: Context) {
    ctx.failureExit = 1;
    if (p.positionals.length !== 1) throw new UsageError(`"pelagos update" needs exactly one container id, got ${p.positionals.length}`);
    if (str(p, "cpu-share") !== undefined) p.flags["cpu-shares"] ??= str(p, "cpu-share");
    const { updateContainer } = await import("../runtime/cgroup-verbs.ts");
    await updateContainer(ctx, p.positionals[0]!, { flags: resourceFlags(p), file: str(p, "resources") });
  },
});
