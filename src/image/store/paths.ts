/**
 * Every path of the image store. The data dir is /var/lib/pelagos, or
 * $PELAGOS_DATA_DIR (tests point it at a temp dir).
 *
 *   blobs/sha256/<hex>          verified blobs (manifests, configs, compressed layers)
 *   layers/<diff hex>/root/     unpacked layer tree (an overlay lowerdir)
 *   layers/<diff hex>/meta.json written last, inside the temp dir, before the rename:
 *                               a layer without it is never trusted
 *   images/<urlencoded ref>.json image records (reference → manifest digest, layers, config)
 *   users/<container id>.json   a container's use of an image (keeps its layers alive)
 *   locks/                      flock files (store.lock: shared for pulls, exclusive for rm/prune)
 *   tmp/                        temp files and dirs, renamed into place when complete
 */
import { mkdirSync } from "node:fs";

export function dataDir(): string {
  return process.env.PELAGOS_DATA_DIR || "/var/lib/pelagos";
}

const hexOf = (digest: string) => {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`Invalid digest "${digest}"`);
  return digest.slice(7);
};

export const paths = {
  blobs: () => `${dataDir()}/blobs/sha256`,
  blob: (digest: string) => `${dataDir()}/blobs/sha256/${hexOf(digest)}`,
  layers: () => `${dataDir()}/layers`,
  layer: (diffId: string) => `${dataDir()}/layers/${hexOf(diffId)}`,
  layerRoot: (diffId: string) => `${dataDir()}/layers/${hexOf(diffId)}/root`,
  layerMeta: (diffId: string) => `${dataDir()}/layers/${hexOf(diffId)}/meta.json`,
  images: () => `${dataDir()}/images`,
  image: (ref: string) => `${dataDir()}/images/${encodeURIComponent(ref)}.json`,
  users: () => `${dataDir()}/users`,
  user: (id: string) => `${dataDir()}/users/${encodeURIComponent(id)}.json`,
  locks: () => `${dataDir()}/locks`,
  lock: (name: string) => `${dataDir()}/locks/${name}`,
  tmp: () => `${dataDir()}/tmp`,
};

export { hexOf };

let made = "";
/** Creates the store's directories (0700 for tmp/locks; 0755 elsewhere so overlay can traverse). */
export function ensureStore(): void {
  const root = dataDir();
  if (made === root) return;
  for (const d of [paths.blobs(), paths.layers(), paths.images(), paths.users()]) mkdirSync(d, { recursive: true, mode: 0o755 });
  for (const d of [paths.locks(), paths.tmp()]) mkdirSync(d, { recursive: true, mode: 0o700 });
  made = root;
}
