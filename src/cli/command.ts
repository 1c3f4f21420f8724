/**
 * A command: citty's shape (meta, args, subCommands) so citty renders usage,
 * plus `run`, which gets strictly parsed flags (see argv.ts) and the global
 * context. `trailing` commands stop parsing flags at the first positional.
 */
import type { FlagDef } from "./argv.ts";
import type { Context } from "./context.ts";
import type { Parsed } from "./argv.ts";

export type Command = {
  meta: { name: string; description: string; hidden?: boolean };
  args?: Record<string, FlagDef>;
  trailing?: boolean;
  /** an OCI runtime verb: failures exit 1, like runc */
  oci?: boolean;
  subCommands?: Record<string, () => Promise<Command>>;
  /** Returns the process exit status (default 0). */
  run?: (args: Parsed, ctx: Context) => Promise<number | void>;
};

export function defineCommand(c: Command): Command {
  return c;
}

/** Turns a lazy module import into a command loader. */
export const lazy =
  (load: () => Promise<{ default: Command }>) =>
  async (): Promise<Command> =>
    (await load()).default;
