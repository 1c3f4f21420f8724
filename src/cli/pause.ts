/** `pause` / `unpause`: freeze and thaw every process of a container (its cgroup's freezer). */
import { defineCommand } from "./command.ts";
import type { Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";

const verb = (name: "pause" | "unpause") =>
  defineCommand({
    oci: true,
    meta: { name, description: name === "pause" ? "Freeze every process of a container" : "Thaw a paused container" },
    args: { id: { type: "positional", description: "Container id or name" } },
    async run(p: Parsed, ctx: Context) {
      if (p.positionals.length !== 1) throw new UsageError(`"pelagos ${name}" needs exactly one container id, got ${p.positionals.length}`);
      const { pauseContainer } = await import("../runtime/cgroup-verbs.ts");
      await pauseContainer(ctx, p.positionals[0]!, name === "pause");
    },
  });

export const pause = verb("pause");
export const unpause = verb("unpause");
