/**
 * Reference → platform-specific image manifest + config, through (nested,
 * up to depth 8) indexes. Every document is stored as a verified blob.
 */
import { ImageError } from "./errors.ts";
import { isIndexType, isManifestType, MT } from "../oci/image/media-types.ts";
import { ConfigFile, DocumentError, Index, Manifest, parseDocument } from "../oci/image/schemas.ts";
import { selectManifest, formatPlatform, type PlatformSpec } from "./platform.ts";
import type { RegistryClient } from "./registry/client.ts";
import { hasBlob, putBlob, readBlob, sha256, digestMismatch } from "./store/blobs.ts";

export type Resolved = {
  digest: string;
  mediaType: string;
  indexDigest?: string;
  manifest: Manifest;
  config: ConfigFile;
  configDigest: string;
};

function parse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DocumentError) throw new ImageError("E_REGISTRY", e.message);
    throw e;
  }
}

type Fetched = Awaited<ReturnType<RegistryClient["getManifest"]>>;

/**
 * Walks an index down to the manifest for `want`. An entry with the right
 * platform wins; entries that are indexes without a platform (nested
 * indexes) are searched next, in order.
 */
async function descend(client: RegistryClient, repo: string, m: Fetched, want: PlatformSpec, what: string, depth: number): Promise<Fetched> {
  if (!(isIndexType(m.mediaType) || (!isManifestType(m.mediaType) && looksLikeIndex(m.bytes)))) return m;
  if (depth >= 8) throw new ImageError("E_UNSUPPORTED", `Cannot resolve ${what}: indexes nested deeper than 8`);
  const idx = parse(() => parseDocument(Index, m.bytes, `index "${m.digest}"`));
  putBlob(m.digest, m.bytes);
  let firstErr: unknown;
  try {
    const d = selectManifest(idx.manifests, want, what);
    return await descend(client, repo, await client.getManifest(repo, d.digest), want, what, depth + 1);
  } catch (e) {
    if (!(e instanceof ImageError) || e.code !== "E_PLATFORM") throw e;
    firstErr = e;
  }
  for (const d of idx.manifests.filter((x) => !x.platform && isIndexType(x.mediaType))) {
    try {
      return await descend(client, repo, await client.getManifest(repo, d.digest), want, what, depth + 1);
    } catch (e) {
      if (!(e instanceof ImageError) || e.code !== "E_PLATFORM") throw e;
    }
  }
  throw firstErr;
}

/** `strict`: the user asked for this platform (--platform), so a single-platform image for another one is an error. */
export async function resolveImage(client: RegistryClient, repo: string, target: string, want: PlatformSpec, strict = false): Promise<Resolved> {
  const top = await client.getManifest(repo, target);
  const m = await descend(client, repo, top, want, `image "${repo}:${target}"`, 0);
  const indexDigest = m === top ? undefined : top.digest;
  if (m.mediaType === "application/vnd.docker.distribution.manifest.v1+prettyjws" || m.mediaType === "application/vnd.docker.distribution.manifest.v1+json")
    throw new ImageError("E_UNSUPPORTED", `Cannot pull "${repo}:${target}": Docker schema 1 manifests are not supported`);
  const manifest = parse(() => parseDocument(Manifest, m.bytes, `manifest "${m.digest}"`));
  putBlob(m.digest, m.bytes);
  const configDigest = manifest.config.digest;
  if (manifest.config.mediaType !== MT.ociConfig && manifest.config.mediaType !== MT.dockerConfig)
    throw new ImageError("E_UNSUPPORTED", `Cannot pull "${repo}:${target}": config media type "${manifest.config.mediaType}" is not a container image`);
  let configBytes: Uint8Array;
  if (hasBlob(configDigest)) configBytes = readBlob(configDigest);
  else {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const c of client.blob(repo, configDigest)) {
      n += c.byteLength;
      if (n > 8 * 1024 * 1024) throw new ImageError("E_REGISTRY", `Cannot fetch config "${configDigest}": too large`);
      chunks.push(c);
    }
    configBytes = Buffer.concat(chunks);
    const got = sha256(configBytes);
    if (got !== configDigest) throw digestMismatch(`config of "${repo}:${target}"`, configDigest, got);
    putBlob(configDigest, configBytes);
  }
  const config = parse(() => parseDocument(ConfigFile, configBytes, `image config "${configDigest}"`));
  if (config.rootfs.diff_ids.length !== manifest.layers.length)
    throw new ImageError("E_REGISTRY", `Invalid image "${repo}:${target}": ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids in its config`);
  if (config.os !== want.os || config.architecture !== want.architecture)
    if (indexDigest === undefined && strict)
      throw new ImageError("E_PLATFORM", `Image "${repo}:${target}" is for ${formatPlatform(config)}, not ${formatPlatform(want)} (use --platform to choose)`);
  const r: Resolved = { digest: m.digest, mediaType: m.mediaType || manifest.mediaType || MT.ociManifest, manifest, config, configDigest };
  if (indexDigest) r.indexDigest = indexDigest;
  return r;
}

function looksLikeIndex(bytes: Uint8Array): boolean {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: unknown; layers?: unknown };
    return Array.isArray(j.manifests) && j.layers === undefined;
  } catch {
    return false;
  }
}
