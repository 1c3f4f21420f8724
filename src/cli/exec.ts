import { defineCommand } from "./command.ts";
import { bool, list, str, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a running container, with the container's restrictions" },
  trailing: true,
  args: {
    interactive: { type: "boolean", alias: "i", description: "Keep stdin open" },
    tty: { type: "boolean", alias: "t", description: "Give the process a terminal" },
    detach: { type: "boolean", alias: "d", description: "Run in the background" },
    env: { type: "string", alias: "e", multiple: true, description: "Set an environment variable (KEY=VALUE, or KEY to copy it)" },
    workdir: { type: "string", alias: "w", description: "Working directory inside the container" },
    user: { type: "string", alias: "u", description: "USER[:GROUP], names or numbers" },
  },
  async run(p: Parsed, ctx: Context) {
    const [name, ...command] = p.positionals;
    if (name === undefined) throw new UsageError(`"pelagos exec" needs a container name and a command`);
    const { execIn } = await import("../runtime/exec.ts");
    return execIn(ctx, {
      name, command, interactive: bool(p, "interactive"), tty: bool(p, "tty"), detach: bool(p, "detach"),
      env: list(p, "env"), workdir: str(p, "workdir"), user: str(p, "user"),
    });
  },
});
