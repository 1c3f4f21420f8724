import { defineCommand } from "../command.ts";
import { bool } from "../argv.ts";
import { withStoreLock } from "../../image/store/lock.ts";
import { collectGarbage } from "../../image/store/gc.ts";
import { deleteImage, listImages } from "../../image/store/images.ts";
import { listImageUses } from "../../image/store/users.ts";
import { humanSize } from "./format.ts";

export default defineCommand({
  meta: { name: "prune", description: "Remove unreferenced layers and blobs (with --all: every image no container uses)" },
  args: { all: { type: "boolean", alias: "a", description: "Also remove images no container uses" } },
  async run(p) {
    await withStoreLock("exclusive", () => {
      let images = 0;
      if (bool(p, "all")) {
        const used = listImageUses();
        for (const r of listImages()) {
          if (used.some((u) => u.reference === r.reference || u.digest === r.digest)) continue;
          deleteImage(r.reference);
          images++;
        }
      }
      const gc = collectGarbage();
      console.log(`Removed ${images} image${images === 1 ? "" : "s"}, ${gc.layers} layer${gc.layers === 1 ? "" : "s"}, ${gc.blobs} blob${gc.blobs === 1 ? "" : "s"}; reclaimed ${humanSize(gc.bytes)}`);
    });
  },
});
