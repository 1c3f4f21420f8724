import { defineCommand } from "../command.ts";
import { bool } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { ImageError } from "../../image/errors.ts";
import { findImage } from "../../image/store/find.ts";
import { deleteImage, listImages } from "../../image/store/images.ts";
import { listImageUses } from "../../image/store/users.ts";
import { withStoreLock } from "../../image/store/lock.ts";
import { collectGarbage } from "../../image/store/gc.ts";
import { familiarName, parseReference } from "../../image/reference.ts";

export default defineCommand({
  meta: { name: "rm", description: "Remove images (layers are freed when nothing else uses them)" },
  args: {
    image: { type: "positional", description: "Image reference or ID" },
    force: { type: "boolean", alias: "f", description: "Remove the reference even if a container uses the image" },
  },
  async run(p) {
    if (p.positionals.length === 0) throw new UsageError(`"pelagos image rm" needs at least one image`);
    await withStoreLock("exclusive", () => {
      for (const input of p.positionals) {
        const rec = findImage(input);
        const byId = rec.configDigest.slice(7).startsWith(input.replace(/^sha256:/, ""));
        const targets = byId && !input.includes(":") ? listImages().filter((r) => r.configDigest === rec.configDigest) : [rec];
        const users = listImageUses().filter((u) => targets.some((t) => t.reference === u.reference || t.digest === u.digest));
        if (users.length > 0 && !bool(p, "force"))
          throw new ImageError("E_IN_USE", `Cannot remove image "${input}": used by container${users.length > 1 ? "s" : ""} ${users.map((u) => `"${u.container}"`).join(", ")} (use --force to untag it anyway)`);
        for (const t of targets) {
          deleteImage(t.reference);
          console.log(`Untagged: ${familiarName(parseReference(t.reference))}${parseReference(t.reference).tag ? `:${parseReference(t.reference).tag}` : ""}`);
        }
      }
      const gc = collectGarbage();
      if (gc.layers > 0) console.log(`Deleted: ${gc.layers} layer${gc.layers === 1 ? "" : "s"}`);
    });
  },
});
