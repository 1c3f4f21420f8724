/**
 * Image references, normalised the way docker does:
 * `busybox` → `docker.io/library/busybox:latest`, `localhost:5000/x` keeps its
 * registry, `name@sha256:…` pins a digest. The default registry can be changed
 * with PELAGOS_DEFAULT_REGISTRY.
 */
import { ImageError } from "./errors.ts";

export type Reference = {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
};

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

export function defaultRegistry(): string {
  return process.env.PELAGOS_DEFAULT_REGISTRY || "docker.io";
}

export function parseReference(input: string): Reference {
  const bad = (why: string) => new ImageError("E_REF", `Invalid image reference "${input}": ${why}`);
  if (input === "" || input.length > 4096) throw bad("empty or too long");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  let registry = defaultRegistry();
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(registry)) throw bad(`"${registry}" is not a valid registry`);
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";
  if (registry === "docker.io" && !path.includes("/")) path = `library/${path}`;
  for (const c of path.split("/"))
    if (!COMPONENT.test(c)) throw bad(`"${path}" is not a valid repository name (lowercase letters, digits, . _ -)`);
  if (tag === undefined && digest === undefined) tag = "latest";
  const ref: Reference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Canonical form: `registry/repository[:tag][@digest]`. */
export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}

/** `registry/repository` without tag or digest. */
export function repoName(r: Reference): string {
  return `${r.registry}/${r.repository}`;
}

/** Short form for display: `docker.io/library/busybox` → `busybox`. */
export function familiarName(r: Reference): string {
  if (r.registry === "docker.io") return r.repository.startsWith("library/") ? r.repository.slice(8) : r.repository;
  return repoName(r);
}

/** The host to contact: docker.io's API lives at registry-1.docker.io. */
export function registryHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function manifestTarget(r: Reference): string {
  return r.digest ?? r.tag ?? "latest";
}

/** True for registries reached over loopback, where plain HTTP is allowed. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[") ? registry.slice(1, registry.indexOf("]")) : registry.split(":")[0]!;
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The reference an image record is stored under: `repo:tag`, or `repo@digest` when pinned without a tag. */
export function recordKey(ref: Reference): string {
  return ref.tag !== undefined ? `${repoName(ref)}:${ref.tag}` : formatReference(ref);
}
