import { defineCommand } from "../command.ts";
import { UsageError } from "../../errors.ts";
import { eraseCredentials } from "../../image/registry/credentials.ts";
import { registryName } from "./login.ts";

export default defineCommand({
  meta: { name: "logout", description: "Remove stored credentials for a registry" },
  args: { registry: { type: "positional", description: "Registry (default docker.io)" } },
  async run(p) {
    if (p.positionals.length > 1) throw new UsageError(`"pelagos image logout" takes one registry`);
    const registry = registryName(p.positionals[0]);
    const found = await eraseCredentials(registry);
    console.log(found ? `Removed login credentials for ${registry}` : `Not logged in to ${registry}`);
  },
});
