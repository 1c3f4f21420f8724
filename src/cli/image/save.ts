import { closeSync, openSync, renameSync, rmSync, fsyncSync } from "node:fs";
import { defineCommand } from "../command.ts";
import { str } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { findImage } from "../../image/store/find.ts";
import { saveImages } from "../../image/archive/save.ts";
import { writeAll } from "../../../ffi/sys.ts";

export default defineCommand({
  meta: { name: "save", description: "Write images to an OCI layout archive (also readable by docker load)" },
  args: {
    image: { type: "positional", description: "Image reference or ID" },
    output: { type: "string", alias: "o", description: "Write to FILE instead of standard output" },
  },
  async run(p) {
    if (p.positionals.length === 0) throw new UsageError(`"pelagos image save" needs at least one image`);
    const images = p.positionals.map(findImage);
    const out = str(p, "output");
    if (!out) {
      if (process.stdout.isTTY) throw new UsageError(`Refusing to write an archive to a terminal: use -o FILE or redirect`);
      saveImages(images, (c) => writeAll(1, c));
      return;
    }
    const tmp = `${out}.tmp-${process.pid}`;
    const fd = openSync(tmp, "w", 0o644);
    try {
      saveImages(images, (c) => writeAll(fd, c));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, out);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
  },
});
