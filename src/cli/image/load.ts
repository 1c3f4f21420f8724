import { createReadStream, existsSync } from "node:fs";
import { defineCommand } from "../command.ts";
import { str } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { loadImages } from "../../image/archive/load.ts";

export default defineCommand({
  meta: { name: "load", description: "Load images from an OCI layout or docker save archive (optionally gzipped)" },
  args: {
    input: { type: "string", alias: "i", description: "Read from FILE instead of standard input" },
    tag: { type: "string", description: "Name the (single) loaded image REF" },
    platform: { type: "string", description: "Platform to take from multi-platform archives" },
  },
  async run(p) {
    if (p.positionals.length > 0) throw new UsageError(`"pelagos image load" takes no arguments (use -i FILE)`);
    const input = str(p, "input");
    if (input && !existsSync(input)) throw new UsageError(`Cannot read archive "${input}": no such file`);
    const src = input ? (createReadStream(input) as AsyncIterable<Uint8Array>) : (Bun.stdin.stream() as unknown as AsyncIterable<Uint8Array>);
    const recs = await loadImages(src, { tag: str(p, "tag"), platform: str(p, "platform") });
    for (const r of recs) console.log(`Loaded image: ${r.reference}`);
  },
});
