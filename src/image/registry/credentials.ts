/**
 * Credentials from ~/.docker/config.json ($DOCKER_CONFIG/config.json), in
 * docker's order: credHelpers[registry] → credsStore → auths[registry]. A
 * credential helper is the `docker-credential-<name>` program speaking the
 * get/store/erase protocol on stdin/stdout. PELAGOS_REGISTRY_USER/PASS come
 * first; explicit flags override everything.
 */
import * as v from "valibot";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { homedir } from "node:os";
import { ImageError } from "../errors.ts";
import { writeFileAtomic } from "../../state/store.ts";
import type { Credentials } from "./auth.ts";

const AuthEntry = v.object({
  auth: v.optional(v.string()),
  username: v.optional(v.string()),
  password: v.optional(v.string()),
  identitytoken: v.optional(v.string()),
});
const DockerConfig = v.looseObject({
  auths: v.optional(v.record(v.string(), AuthEntry)),
  credHelpers: v.optional(v.record(v.string(), v.string())),
  credsStore: v.optional(v.string()),
});
type DockerConfig = v.InferOutput<typeof DockerConfig>;

export function dockerConfigPath(): string {
  return `${process.env.DOCKER_CONFIG || `${process.env.HOME || homedir()}/.docker`}/config.json`;
}

function loadConfig(): DockerConfig {
  const path = dockerConfigPath();
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  const r = v.safeParse(DockerConfig, JSON.parse(raw));
  if (!r.success) throw new ImageError("E_CREDENTIALS", `Invalid docker config "${path}": ${r.issues[0]?.message}`);
  return r.output;
}

/** The keys a registry may be stored under (docker.io has historical aliases). */
export function configKeys(registry: string): string[] {
  if (registry === "docker.io")
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io", "https://registry-1.docker.io"];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

const helperServer = (registry: string) => (registry === "docker.io" ? "https://index.docker.io/v1/" : registry);

async function runHelper(helper: string, action: "get" | "store" | "erase", input: string): Promise<{ ok: boolean; out: string; err: string }> {
  const program = `docker-credential-${helper}`;
  const exe = Bun.which(program, { PATH: process.env.PATH ?? "" });
  if (!exe) throw new ImageError("E_CREDENTIALS", `Cannot run credential helper "${program}": not found in PATH`);
  let p;
  try {
    p = Bun.spawn([exe, action], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: process.env });
  } catch (e) {
    throw new ImageError("E_CREDENTIALS", `Cannot run credential helper "${program}": ${(e as Error).message}`);
  }
  p.stdin.write(input);
  await p.stdin.end();
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { ok: code === 0, out, err: (err || out).trim() };
}

async function fromHelper(helper: string, registry: string): Promise<Credentials | undefined> {
  const r = await runHelper(helper, "get", helperServer(registry));
  if (!r.ok) {
    if (/not found/i.test(r.err)) return undefined;
    throw new ImageError("E_CREDENTIALS", `Credential helper "docker-credential-${helper}" failed for "${registry}": ${r.err}`);
  }
  const j = JSON.parse(r.out) as { Username?: string; Secret?: string };
  if (!j.Secret) return undefined;
  return j.Username === "<token>" ? { identityToken: j.Secret } : { username: j.Username ?? "", password: j.Secret };
}

function fromEntry(e: v.InferOutput<typeof AuthEntry>): Credentials | undefined {
  if (e.identitytoken) return { identityToken: e.identitytoken, username: e.username };
  if (e.auth) {
    const s = Buffer.from(e.auth, "base64").toString("utf8");
    const i = s.indexOf(":");
    if (i > 0) return { username: s.slice(0, i), password: s.slice(i + 1) };
  }
  if (e.username && e.password) return { username: e.username, password: e.password };
  return undefined;
}

export async function lookupCredentials(registry: string): Promise<Credentials | undefined> {
  const user = process.env.PELAGOS_REGISTRY_USER;
  const pass = process.env.PELAGOS_REGISTRY_PASS;
  if (user && pass) return { username: user, password: pass };
  const cfg = loadConfig();
  const keys = configKeys(registry);
  for (const k of keys) {
    const h = cfg.credHelpers?.[k];
    if (h) return fromHelper(h, registry);
  }
  if (cfg.credsStore) {
    const c = await fromHelper(cfg.credsStore, registry);
    if (c) return c;
  }
  for (const k of keys) {
    const e = cfg.auths?.[k];
    if (e) return fromEntry(e);
  }
  return undefined;
}

/** Saves credentials the way docker login does: through the helper if one applies, else base64 in auths. */
export async function saveCredentials(registry: string, username: string, password: string): Promise<string> {
  const cfg = loadConfig();
  const helper = configKeys(registry).map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? cfg.credsStore;
  if (helper) {
    const r = await runHelper(helper, "store", JSON.stringify({ ServerURL: helperServer(registry), Username: username, Secret: password }));
    if (!r.ok) throw new ImageError("E_CREDENTIALS", `Credential helper "docker-credential-${helper}" cannot store credentials: ${r.err}`);
    return `docker-credential-${helper}`;
  }
  const key = configKeys(registry)[0]!;
  cfg.auths = { ...(cfg.auths ?? {}), [key]: { auth: Buffer.from(`${username}:${password}`).toString("base64") } };
  const path = dockerConfigPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, `${JSON.stringify(cfg, null, "\t")}\n`, 0o600, { durable: true });
  return path;
}

/** Removes stored credentials; returns false when there were none. */
export async function eraseCredentials(registry: string): Promise<boolean> {
  const cfg = loadConfig();
  const helper = configKeys(registry).map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? cfg.credsStore;
  let found = false;
  if (helper) found = (await runHelper(helper, "erase", helperServer(registry))).ok;
  for (const k of configKeys(registry)) {
    if (cfg.auths?.[k]) {
      delete cfg.auths[k];
      found = true;
    }
  }
  if (found) writeFileAtomic(dockerConfigPath(), `${JSON.stringify(cfg, null, "\t")}\n`, 0o600, { durable: true });
  return found;
}
