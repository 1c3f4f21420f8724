import { readdirSync, statSync } from "node:fs";
import { defineCommand } from "../command.ts";
import { bool, str } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { listImages } from "../../image/store/images.ts";
import { listLayers, readLayerMeta } from "../../image/store/layers.ts";
import { listImageUses } from "../../image/store/users.ts";
import { ensureStore, paths, dataDir } from "../../image/store/paths.ts";
import { humanSize, table } from "../image/format.ts";

export default defineCommand({
  meta: { name: "df", description: "Show disk usage of images, layers and blobs" },
  args: {
    format: { type: "string", description: "Output format: table or json" },
    json: { type: "boolean", description: "Same as --format json" },
  },
  async run(p) {
    const format = bool(p, "json") ? "json" : (str(p, "format") ?? "table");
    if (format !== "table" && format !== "json") throw new UsageError(`Invalid --format "${format}": expected table or json`);
    ensureStore();
    const images = listImages();
    const used = new Set(listImageUses().flatMap((u) => u.layers));
    const referenced = new Set(images.flatMap((r) => r.layers.map((l) => l.diffId)));
    let layerBytes = 0;
    let reclaimable = 0;
    const layers = listLayers();
    for (const d of layers) {
      const size = readLayerMeta(d)?.size ?? 0;
      layerBytes += size;
      if (!referenced.has(d) && !used.has(d)) reclaimable += size;
    }
    let blobBytes = 0;
    const blobs = readdirSync(paths.blobs());
    for (const b of blobs) blobBytes += statSync(`${paths.blobs()}/${b}`).size;
    const report = {
      DataDir: dataDir(),
      Images: { Count: images.length, InUse: new Set(listImageUses().map((u) => u.digest)).size },
      Layers: { Count: layers.length, Size: layerBytes, Reclaimable: reclaimable },
      Blobs: { Count: blobs.length, Size: blobBytes },
    };
    if (format === "json") {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(
      table([
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        ["Images", String(images.length), String(report.Images.InUse), humanSize(layerBytes), humanSize(reclaimable)],
        ["Layers", String(layers.length), String(used.size), humanSize(layerBytes), humanSize(reclaimable)],
        ["Blobs", String(blobs.length), "-", humanSize(blobBytes), "-"],
      ]),
    );
  },
});
