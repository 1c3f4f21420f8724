import { defineCommand } from "../command.ts";
import { UsageError } from "../../errors.ts";
import { findImage } from "../../image/store/find.ts";
import { listImages } from "../../image/store/images.ts";
import { readBlob } from "../../image/store/blobs.ts";
import { paths } from "../../image/store/paths.ts";
import { ConfigFile, parseDocument } from "../../oci/image/schemas.ts";
import { imageSize } from "./format.ts";
import { parseReference, repoName } from "../../image/reference.ts";

export default defineCommand({
  meta: { name: "inspect", description: "Show details of one or more images as JSON" },
  args: { image: { type: "positional", description: "Image reference or ID" } },
  async run(p) {
    if (p.positionals.length === 0) throw new UsageError(`"pelagos image inspect" needs at least one image`);
    const out = p.positionals.map((input) => {
      const r = findImage(input);
      const cfg = parseDocument(ConfigFile, readBlob(r.configDigest), `image config "${r.configDigest}"`);
      const same = listImages().filter((o) => o.configDigest === r.configDigest);
      return {
        Id: r.configDigest,
        RepoTags: same.map((o) => o.reference).filter((x) => !x.includes("@")),
        RepoDigests: [...new Set(same.map((o) => `${repoName(parseReference(o.reference))}@${o.indexDigest ?? o.digest}`))],
        Reference: r.reference,
        Digest: r.digest,
        IndexDigest: r.indexDigest ?? null,
        MediaType: r.mediaType,
        Created: cfg.created ?? null,
        Author: cfg.author ?? null,
        Os: cfg.os,
        Architecture: cfg.architecture,
        Variant: cfg.variant ?? null,
        Size: imageSize(r),
        Config: cfg.config ?? {},
        RootFS: { Type: "layers", Layers: cfg.rootfs.diff_ids },
        Layers: r.layers.map((l) => ({ Digest: l.digest, DiffId: l.diffId, MediaType: l.mediaType, Size: l.size, Path: paths.layerRoot(l.diffId) })),
        PulledAt: r.pulledAt,
      };
    });
    console.log(JSON.stringify(out, null, 2));
  },
});
