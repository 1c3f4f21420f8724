import { defineCommand } from "../command.ts";
import { bool, str } from "../argv.ts";
import { UsageError } from "../../errors.ts";
import { pullImage } from "../../image/pull.ts";
import { makeProgress } from "../../image/progress.ts";
import { credentialArgs, credentialsFromFlags } from "./credentials-flags.ts";

export default defineCommand({
  meta: { name: "pull", description: "Pull an image from a registry" },
  args: {
    image: { type: "positional", description: "Image reference (busybox, localhost:5000/app:1, name@sha256:…)" },
    platform: { type: "string", description: "Platform os/arch[/variant] (default: this host's)" },
    quiet: { type: "boolean", alias: "q", description: "Print only the image reference" },
    insecure: { type: "boolean", description: "Allow plain HTTP and unverified TLS for this registry" },
    ...credentialArgs,
  },
  async run(p) {
    const [ref, ...extra] = p.positionals;
    if (!ref || extra.length > 0) throw new UsageError(`"pelagos image pull" needs exactly one image reference`);
    const quiet = bool(p, "quiet");
    const rec = await pullImage(ref, {
      platform: str(p, "platform"),
      insecure: bool(p, "insecure"),
      credentials: await credentialsFromFlags(p),
      progress: makeProgress(quiet),
    });
    if (!quiet) console.log(`Digest: ${rec.digest}`);
    console.log(rec.reference);
  },
});
