/**
 * `image load`: reads an OCI image layout archive or a `docker save` archive
 * (current and legacy `<id>/layer.tar` form), optionally gzip-compressed, as
 * a stream: each blob goes straight to a verified BlobSink, never into
 * memory. Then every image is unpacked from the local blobs (diff_ids
 * verified) and recorded.
 */
import { openSync, readSync, closeSync } from "node:fs";
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { ImageError, asStoreError } from "../errors.ts";
import { parseReference, recordKey } from "../reference.ts";
import { hostPlatform, parsePlatform, selectManifest } from "../platform.ts";
import { isIndexType, MT } from "../../oci/image/media-types.ts";
import { ConfigFile, DockerArchiveManifest, Index, Manifest, parseDocument, DocumentError, type Descriptor } from "../../oci/image/schemas.ts";
import { BlobSink, putBlob, readBlob, sha256 } from "../store/blobs.ts";
import { dataDir, paths } from "../store/paths.ts";
import { writeImage, type ImageRecord } from "../store/images.ts";
import { withStoreLock } from "../store/lock.ts";
import { fetchLayer } from "../fetch-layer.ts";
import { readTar } from "../unpack/tar-reader.ts";

type Archive = { files: Map<string, Uint8Array>; blobsByPath: Map<string, string>; links: Map<string, string> };

const SMALL = new Set(["index.json", "manifest.json", "oci-layout", "repositories"]);

async function* maybeGunzip(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })();
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) {
    const z = createGunzip();
    Readable.from(rest, { objectMode: false }).pipe(z);
    yield* z as AsyncIterable<Uint8Array>;
  } else yield* rest;
}

const clean = (n: string) => n.replace(/^\.\//, "").replace(/\/+$/, "");

async function readArchive(src: AsyncIterable<Uint8Array>): Promise<Archive> {
  const a: Archive = { files: new Map(), blobsByPath: new Map(), links: new Map() };
  await readTar(maybeGunzip(src), async (e, body) => {
    const name = clean(e.name);
    if (e.type === "symlink" || e.type === "hardlink") {
      const target = e.type === "hardlink" ? clean(e.linkname) : clean(new URL(e.linkname, `file:///${name}`).pathname.slice(1));
      a.links.set(name, target);
      return;
    }
    if (e.type !== "file") return;
    const base = name.split("/").pop()!;
    if (SMALL.has(name) || (base.endsWith(".json") && !name.startsWith("blobs/")) || base === "json" || base === "VERSION") {
      if (e.size > 16 * 1024 * 1024) throw new ImageError("E_ARCHIVE", `Cannot load archive: "${name}" is too large`);
      const parts: Uint8Array[] = [];
      for await (const c of body) parts.push(c.slice());
      a.files.set(name, Buffer.concat(parts));
      return;
    }
    const sink = new BlobSink(e.size);
    try {
      for await (const c of body) await sink.write(c);
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (m) await sink.commit(`sha256:${m[1]}`, e.size);
      a.blobsByPath.set(name, m ? `sha256:${m[1]}` : await sink.commitComputed());
    } catch (err) {
      await sink.abort();
      throw err;
    }
  });
  return a;
}

function blobFor(a: Archive, path: string): string {
  let p = clean(path);
  for (let i = 0; i < 10 && a.links.has(p); i++) p = a.links.get(p)!;
  const d = a.blobsByPath.get(p);
  if (d) return d;
  const small = a.files.get(p);
  if (small) {
    const digest = sha256(small);
    putBlob(digest, small);
    return digest;
  }
  throw new ImageError("E_ARCHIVE", `Cannot load archive: it names "${path}" but does not contain it`);
}

function sniffLayerType(digest: string): string {
  const fd = openSync(paths.blob(digest), "r");
  const b = new Uint8Array(4);
  try {
    readSync(fd, b, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (b[0] === 0x1f && b[1] === 0x8b) return MT.dockerLayerGzip;
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return MT.ociLayerZstd;
  return "application/vnd.docker.image.rootfs.diff.tar";
}

type Found = { names: string[]; manifestDigest: string; mediaType: string };

function fromIndex(a: Archive, platform: string | undefined): Found[] {
  const idx = parseDocument(Index, a.files.get("index.json")!, "archive index.json");
  const want = platform ? parsePlatform(platform) : hostPlatform();
  const out: Found[] = [];
  for (const top of idx.manifests) {
    let d: Descriptor = top;
    for (let depth = 0; isIndexType(d.mediaType); depth++) {
      if (depth > 8) throw new ImageError("E_ARCHIVE", "Cannot load archive: indexes nested too deep");
      d = selectManifest(parseDocument(Index, readBlob(d.digest), `index "${d.digest}"`).manifests, want, "the archive");
    }
    const name = top.annotations?.["io.containerd.image.name"] ?? top.annotations?.["org.opencontainers.image.ref.name"];
    out.push({ names: name ? [name] : [], manifestDigest: d.digest, mediaType: d.mediaType });
  }
  return out;
}

function fromDockerManifest(a: Archive): Found[] {
  const entries = parseDocument(DockerArchiveManifest, a.files.get("manifest.json")!, "archive manifest.json");
  return entries.map((e) => {
    const config = blobFor(a, e.Config);
    const layers = e.Layers.map((p) => {
      const digest = blobFor(a, p);
      return { mediaType: sniffLayerType(digest), digest, size: Bun.file(paths.blob(digest)).size };
    });
    const m = JSON.stringify({ schemaVersion: 2, mediaType: MT.dockerManifest, config: { mediaType: MT.dockerConfig, digest: config, size: Bun.file(paths.blob(config)).size }, layers });
    const digest = sha256(m);
    putBlob(digest, new TextEncoder().encode(m));
    return { names: e.RepoTags ?? [], manifestDigest: digest, mediaType: MT.dockerManifest };
  });
}

async function importImage(f: Found, name: string): Promise<ImageRecord> {
  const manifest = parseDocument(Manifest, readBlob(f.manifestDigest), `manifest "${f.manifestDigest}"`);
  const config = parseDocument(ConfigFile, readBlob(manifest.config.digest), `config "${manifest.config.digest}"`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) throw new ImageError("E_ARCHIVE", `Invalid image "${name}": layer and diff_id counts differ`);
  const noRemote = () => {
    throw new ImageError("E_ARCHIVE", `Cannot load "${name}": a layer blob is missing from the archive`);
  };
  for (const [i, l] of manifest.layers.entries()) await fetchLayer(l, config.rootfs.diff_ids[i]!, noRemote, { advance() {}, done() {} });
  const rec: ImageRecord = {
    version: 1, reference: recordKey(parseReference(name)), digest: f.manifestDigest, mediaType: f.mediaType, configDigest: manifest.config.digest,
    layers: manifest.layers.map((l, i) => ({ digest: l.digest, diffId: config.rootfs.diff_ids[i]!, mediaType: l.mediaType, size: l.size })),
    platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
    pulledAt: new Date().toISOString(),
  };
  if (config.created) rec.created = config.created;
  writeImage(rec);
  return rec;
}

export async function loadImages(src: AsyncIterable<Uint8Array>, opts: { tag?: string; platform?: string } = {}): Promise<ImageRecord[]> {
  return withStoreLock("shared", async () => {
    try {
      const a = await readArchive(src);
      const found = a.files.has("index.json") ? fromIndex(a, opts.platform) : a.files.has("manifest.json") ? fromDockerManifest(a) : undefined;
      if (!found) throw new ImageError("E_ARCHIVE", "Cannot load archive: it has neither index.json nor manifest.json");
      if (opts.tag && found.length !== 1) throw new ImageError("E_ARCHIVE", `Cannot apply --tag: the archive holds ${found.length} images`);
      const out: ImageRecord[] = [];
      for (const f of found) {
        const names = opts.tag ? [opts.tag] : f.names.filter((n) => n.includes("/") || n.includes(":")); // a bare OCI ref.name is only a tag
        if (names.length === 0) throw new ImageError("E_ARCHIVE", `Cannot load image "${f.manifestDigest}": the archive gives it no name (use --tag)`);
        for (const n of names) out.push(await importImage(f, n));
      }
      return out;
    } catch (e) {
      if (e instanceof DocumentError) throw new ImageError("E_ARCHIVE", `Cannot load archive: ${e.message}`);
      throw asStoreError(e, "Cannot load archive", dataDir());
    }
  });
}
