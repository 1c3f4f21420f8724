/** `-u/--username`, `--password`, `--password-stdin`, shared by pull and login. */
import { UsageError } from "../../errors.ts";
import { bool, str, type Parsed } from "../argv.ts";
import type { Credentials } from "../../image/registry/auth.ts";

export const credentialArgs = {
  username: { type: "string", alias: "u", description: "Registry user name" },
  password: { type: "string", description: "Registry password (prefer --password-stdin)" },
  "password-stdin": { type: "boolean", description: "Read the password from standard input" },
} as const;

export async function credentialsFromFlags(p: Parsed): Promise<Credentials | undefined> {
  const username = str(p, "username");
  let password = str(p, "password");
  if (bool(p, "password-stdin")) {
    if (password !== undefined) throw new UsageError(`Flags "--password" and "--password-stdin" cannot be used together`);
    password = (await new Response(Bun.stdin.stream()).text()).replace(/\r?\n$/, "");
  }
  if (username === undefined && password === undefined) return undefined;
  if (!username || !password) throw new UsageError(`Flags "--username" and a password go together`);
  return { username, password };
}
