/** Media types of the OCI image spec and of Docker's schema 2 that pelagos understands. */
export const MT = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociLayerNdGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerLayerForeign: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** Accept header for manifest requests: every manifest and index type we can read. */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(", ");

export type Compression = "gzip" | "zstd" | "none";

/** How a layer blob is compressed, or undefined for a media type we do not unpack. */
export function layerCompression(mediaType: string): Compression | undefined {
  switch (mediaType) {
    case MT.ociLayer:
    case "application/vnd.docker.image.rootfs.diff.tar":
      return "none";
    case MT.ociLayerGzip:
    case MT.ociLayerNdGzip:
    case MT.dockerLayerGzip:
    case MT.dockerLayerForeign:
      return "gzip";
    case MT.ociLayerZstd:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
      return "zstd";
    default:
      return undefined;
  }
}

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MT.ociIndex || mediaType === MT.dockerList;
}

export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MT.ociManifest || mediaType === MT.dockerManifest;
}
