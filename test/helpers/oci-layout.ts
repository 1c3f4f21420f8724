/**
 * Builds OCI image layouts in TS for the tests: layers (tar via the test tar
 * writer, compressed gzip/zstd/none), a config with the right diff_ids, a
 * manifest (OCI or Docker media types) and optionally a multi-platform index.
 */
import { mkdirSync, writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { tar, type TestEntry } from "./tar-writer.ts";

export type Compression = "gzip" | "zstd" | "none";
export type LayerSpec = { entries: TestEntry[]; compression?: Compression } | { raw: Uint8Array; compression?: Compression };
export type ImageSpec = {
  layers: LayerSpec[];
  architecture?: string;
  variant?: string;
  config?: Record<string, unknown>;
  docker?: boolean;
};
export type Desc = { mediaType: string; digest: string; size: number; platform?: Record<string, string>; annotations?: Record<string, string> };

const sha = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

export function hostArch(): string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

export class Layout {
  readonly dir: string;
  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync("/var/tmp/pelagos-layout-");
    mkdirSync(`${this.dir}/blobs/sha256`, { recursive: true });
    writeFileSync(`${this.dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(`${this.dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [] }));
  }

  blob(data: Uint8Array | string): { digest: string; size: number } {
    const digest = sha(data);
    writeFileSync(`${this.dir}/blobs/sha256/${digest.slice(7)}`, data);
    return { digest, size: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength };
  }

  /** Adds one image; returns the manifest descriptor and the diff_ids. */
  image(spec: ImageSpec): { manifest: Desc; diffIds: string[]; layers: Desc[]; config: Desc } {
    const docker = spec.docker === true;
    const layers: Desc[] = [];
    const diffIds: string[] = [];
    for (const l of spec.layers) {
      const plain = "raw" in l ? l.raw : tar(l.entries);
      diffIds.push(sha(plain));
      const c = l.compression ?? "gzip";
      const data = c === "gzip" ? gzipSync(plain) : c === "zstd" ? zstdCompressSync(plain) : plain;
      const mediaType = docker
        ? c === "gzip" ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.docker.image.rootfs.diff.tar"
        : c === "gzip" ? "application/vnd.oci.image.layer.v1.tar+gzip" : c === "zstd" ? "application/vnd.oci.image.layer.v1.tar+zstd" : "application/vnd.oci.image.layer.v1.tar";
      layers.push({ mediaType, ...this.blob(data) });
    }
    const arch = spec.architecture ?? hostArch();
    const cfg = {
      architecture: arch,
      ...(spec.variant ? { variant: spec.variant } : {}),
      os: "linux",
      created: "2026-01-02T03:04:05Z",
      config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"], ...(spec.config ?? {}) },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: [],
    };
    const config: Desc = { mediaType: docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json", ...this.blob(JSON.stringify(cfg)) };
    const mt = docker ? "application/vnd.docker.distribution.manifest.v2+json" : "application/vnd.oci.image.manifest.v1+json";
    const m = JSON.stringify({ schemaVersion: 2, mediaType: mt, config, layers });
    const manifest: Desc = { mediaType: mt, ...this.blob(m), platform: { os: "linux", architecture: arch, ...(spec.variant ? { variant: spec.variant } : {}) } };
    return { manifest, diffIds, layers, config };
  }

  /** Puts descriptors into index.json under `tag`; several descriptors become a nested index blob. */
  tag(tag: string, manifests: Desc[]): Desc {
    let top: Desc;
    if (manifests.length === 1) top = manifests[0]!;
    else {
      const idx = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests });
      top = { mediaType: "application/vnd.oci.image.index.v1+json", ...this.blob(idx) };
    }
    const index = JSON.parse(readFileSync(`${this.dir}/index.json`, "utf8")) as { manifests: Desc[] };
    const { platform: _p, ...plain } = top;
    index.manifests.push({ ...plain, annotations: { "org.opencontainers.image.ref.name": tag } });
    writeFileSync(`${this.dir}/index.json`, JSON.stringify(index));
    return top;
  }
}

/** busybox-static plus a few applet links: a layer that can really run. */
export function busyboxEntries(): TestEntry[] {
  const bb = readFileSync("/bin/busybox");
  return [
    { name: "bin/", type: "dir", mode: 0o755 },
    { name: "bin/busybox", data: bb, mode: 0o755 },
    { name: "bin/sh", type: "symlink", linkname: "busybox" },
    { name: "bin/ls", type: "hardlink", linkname: "bin/busybox" },
    { name: "etc/", type: "dir", mode: 0o755 },
    { name: "etc/passwd", data: "root:x:0:0:root:/root:/bin/sh\n" },
    { name: "tmp/", type: "dir", mode: 0o1777 },
  ];
}
