import { defineCommand } from "../command.ts";
import { bool } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { RegistryClient } from "../../image/registry/client.ts";
import { saveCredentials } from "../../image/registry/credentials.ts";
import { parseReference } from "../../image/reference.ts";
import { credentialArgs, credentialsFromFlags } from "./credentials-flags.ts";

/** `docker.io`, `localhost:5000`, `https://r.example.com/` → the registry name used as the config key. */
export function registryName(input: string | undefined): string {
  if (!input) return "docker.io";
  const s = input.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return parseReference(`${s}/x`).registry;
}

export default defineCommand({
  meta: { name: "login", description: "Log in to a registry (stores credentials in ~/.docker/config.json or its helper)" },
  args: {
    registry: { type: "positional", description: "Registry (default docker.io)" },
    ...credentialArgs,
    insecure: { type: "boolean", description: "Allow plain HTTP and unverified TLS for this registry" },
  },
  async run(p) {
    if (p.positionals.length > 1) throw new UsageError(`"pelagos image login" takes one registry`);
    const registry = registryName(p.positionals[0]);
    const creds = await credentialsFromFlags(p);
    if (!creds || !("password" in creds)) throw new UsageError(`"pelagos image login" needs --username and --password-stdin (or --password)`);
    await new RegistryClient(registry, { credentials: creds, insecure: bool(p, "insecure"), attempts: 2 }).ping();
    const where = await saveCredentials(registry, creds.username, creds.password);
    console.log(`Login succeeded (credentials stored in ${where})`);
  },
});
