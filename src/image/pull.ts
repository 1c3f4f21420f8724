/**
 * `pull`: resolve the reference (mirrors first, then the origin), fetch the
 * layers in parallel (each streamed, verified and unpacked as it arrives),
 * then write the image record. The store is held shared for the whole pull,
 * so `rm`/`prune` never collect a layer a pull is about to reference.
 */
import { ImageError, asStoreError } from "./errors.ts";
import { parseReference, manifestTarget, recordKey, type Reference } from "./reference.ts";
export { recordKey };
import { hostPlatform, parsePlatform, type PlatformSpec } from "./platform.ts";
import { RegistryClient } from "./registry/client.ts";
import type { Credentials } from "./registry/auth.ts";
import { lookupCredentials } from "./registry/credentials.ts";
import { mirrorsFor } from "./registry/mirrors.ts";
import { resolveImage, type Resolved } from "./resolve.ts";
import { fetchLayer } from "./fetch-layer.ts";
import { silentProgress, type Progress } from "./progress.ts";
import { writeImage, type ImageRecord } from "./store/images.ts";
import { withStoreLock } from "./store/lock.ts";
import { cleanDeadTemps } from "./store/gc.ts";
import { dataDir, paths } from "./store/paths.ts";
import { hashesOffThread, syncStore } from "./hash-offload.ts";
import { mark } from "../log/timing.ts";

export type PullOptions = {
  platform?: string;
  insecure?: boolean;
  credentials?: Credentials;
  progress?: Progress;
  /** Parallel layer downloads (default 3). */
  concurrency?: number;
};

async function resolveFromSources(ref: Reference, want: PlatformSpec, opts: PullOptions): Promise<{ client: RegistryClient; resolved: Resolved }> {
  const repo = ref.repository;
  const target = manifestTarget(ref);
  let firstErr: unknown;
  for (const mirror of mirrorsFor(ref.registry)) {
    const client = new RegistryClient(mirror, { insecure: opts.insecure, attempts: 2 });
    try {
      return { client, resolved: await resolveImage(client, repo, target, want, opts.platform !== undefined) };
    } catch (e) {
      if (e instanceof ImageError && (e.code === "E_PLATFORM" || e.code === "E_DIGEST")) throw e;
      firstErr ??= e;
    }
  }
  const credentials = opts.credentials ?? (await lookupCredentials(ref.registry));
  const client = new RegistryClient(ref.registry, { insecure: opts.insecure, credentials });
  try {
    return { client, resolved: await resolveImage(client, repo, target, want, opts.platform !== undefined) };
  } catch (e) {
    throw e instanceof ImageError || firstErr === undefined ? e : firstErr;
  }
}

/** Runs `tasks` with at most `n` in flight; waits for all, then throws the first failure. */
async function pool(tasks: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < tasks.length && failed === undefined) {
      const t = tasks[next++]!;
      try {
        await t();
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  if (failed !== undefined) throw failed;
}

export async function pullImage(input: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(input);
  const want = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const progress = opts.progress ?? silentProgress;
  const pulled = pullLocked(ref, want, progress, opts);
  hashesOffThread(); // loads the hashing thread (~2 ms) while the first request is out
  try {
    return await pulled;
  } catch (e) {
    throw asStoreError(e, `Cannot pull "${input}"`, dataDir());
  }
}

function pullLocked(ref: Reference, want: PlatformSpec, progress: Progress, opts: PullOptions): Promise<ImageRecord> {
  return withStoreLock("shared", async () => {
    cleanDeadTemps();
    const { client, resolved } = await resolveFromSources(ref, want, opts);
    const { manifest, config } = resolved;
    mark("pull: resolved");
    const seen = new Set<string>();
    const tasks: (() => Promise<void>)[] = [];
    manifest.layers.forEach((desc, i) => {
      const diffId = config.rootfs.diff_ids[i]!;
      if (seen.has(`${diffId} ${desc.digest}`)) return;
      seen.add(`${diffId} ${desc.digest}`);
      tasks.push(async () => {
        const p = progress.layer(desc.digest, desc.size, "Waiting");
        const status = await fetchLayer(desc, diffId, () => client.blob(ref.repository, desc.digest), p);
        p.done(status);
      });
    });
    try {
      await pool(tasks, opts.concurrency ?? 3);
    } finally {
      progress.finish();
    }
    const rec: ImageRecord = {
      version: 1,
      reference: recordKey(ref),
      digest: resolved.digest,
      mediaType: resolved.mediaType,
      configDigest: resolved.configDigest,
      layers: manifest.layers.map((l, i) => ({ digest: l.digest, diffId: config.rootfs.diff_ids[i]!, mediaType: l.mediaType, size: l.size })),
      platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
      pulledAt: new Date().toISOString(),
    };
    if (resolved.indexDigest) rec.indexDigest = resolved.indexDigest;
    if (config.created) rec.created = config.created;
    mark("pull: layers done");
    writeImage(rec);
    // The renames of this pull (blobs, layers, the record) on the disk before we report success.
    await syncStore(paths.images());
    return rec;
  });
}
