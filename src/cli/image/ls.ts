import { defineCommand } from "../command.ts";
import { bool, str } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { listImages } from "../../image/store/images.ts";
import { ago, humanSize, imageSize, repoTag, table } from "./format.ts";

export default defineCommand({
  meta: { name: "ls", description: "List images" },
  args: {
    format: { type: "string", description: "Output format: table or json" },
    json: { type: "boolean", description: "Same as --format json" },
    quiet: { type: "boolean", alias: "q", description: "Print only image IDs" },
  },
  async run(p) {
    const format = bool(p, "json") ? "json" : (str(p, "format") ?? "table");
    if (format !== "table" && format !== "json") throw new UsageError(`Invalid --format "${format}": expected table or json`);
    if (p.positionals.length > 0) throw new UsageError(`"pelagos image ls" takes no arguments`);
    const images = listImages();
    if (bool(p, "quiet")) {
      for (const id of new Set(images.map((r) => r.configDigest.slice(7, 19)))) console.log(id);
      return;
    }
    if (format === "json") {
      const out = images.map((r) => {
        const { repository, tag } = repoTag(r);
        return {
          Repository: repository, Tag: tag, Reference: r.reference, Id: r.configDigest, Digest: r.digest,
          Created: r.created ?? null, Size: imageSize(r), Platform: r.platform, Type: "linux",
        };
      });
      console.log(JSON.stringify(out, null, 2));
      return;
    }
    const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
    for (const r of images) {
      const { repository, tag } = repoTag(r);
      rows.push([repository, tag, r.configDigest.slice(7, 19), ago(r.created), humanSize(imageSize(r))]);
    }
    console.log(table(rows));
  },
});
