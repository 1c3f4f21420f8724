import { defineCommand } from "../command.ts";
import { UsageError } from "../../errors.ts";
import { findImage } from "../../image/store/find.ts";
import { writeImage } from "../../image/store/images.ts";
import { withStoreLock } from "../../image/store/lock.ts";
import { parseReference, recordKey } from "../../image/reference.ts";

export default defineCommand({
  meta: { name: "tag", description: "Give an image another reference (layers are shared)" },
  args: {
    source: { type: "positional", description: "Existing image" },
    target: { type: "positional", description: "New reference" },
  },
  async run(p) {
    const [src, dst, ...extra] = p.positionals;
    if (!src || !dst || extra.length > 0) throw new UsageError(`"pelagos image tag" needs SOURCE and TARGET`);
    const target = parseReference(dst);
    if (target.digest !== undefined) throw new UsageError(`Cannot tag with a digest: "${dst}"`);
    await withStoreLock("shared", () => {
      const rec = findImage(src);
      writeImage({ ...rec, reference: recordKey(target) });
    });
  },
});
