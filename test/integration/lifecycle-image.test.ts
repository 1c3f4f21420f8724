/**
 * Detached containers run from an image: the overlay exists only in the
 * container's mount namespace, the writable layer on disk survives a stop
 * and comes back with `start`, exec resolves users in the image's
 * /etc/passwd, and `rm` releases the writable layer.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { haveTools, push, startRegistry, type Registry } from "../helpers/registry.ts";
import { busyboxEntries, Layout } from "../helpers/oci-layout.ts";
import { explain, uniqueId } from "../helpers/pelagos.ts";
import { itIf, requires } from "../helpers/requires.ts";
import { useLifecycleRoot } from "./lifecycle-helpers.ts";

const skip = requires("root", "busybox", "pelagos") ?? (haveTools() ? null : "needs docker-registry and skopeo (apt-get install docker-registry skopeo)");
const rt = useLifecycleRoot();
let reg: Registry | undefined;
let data = "";
let layoutDir = "";
let ref = "";

beforeAll(async () => {
  if (skip) return;
  data = mkdtempSync("/var/tmp/pelagos-lc-image-");
  reg = await startRegistry();
  const l = new Layout();
  layoutDir = l.dir;
  const link = (n: string) => ({ name: `bin/${n}`, type: "symlink" as const, linkname: "busybox" });
  const img = l.image({
    layers: [
      { entries: [...busyboxEntries(), ...["sleep", "cat", "id", "echo", "touch"].map(link)] },
      { entries: [{ name: "etc/passwd", data: "root:x:0:0:root:/root:/bin/sh\nimguser:x:4321:4321:u:/:/bin/sh\n" }] },
    ],
    config: { Cmd: ["/bin/sleep", "1000"], Env: ["PATH=/bin"] },
  });
  l.tag("sleeper", [img.manifest]);
  await push(l.dir, "sleeper", `${reg.host}/sleeper:1`);
  ref = `${reg.host}/sleeper:1`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  for (const d of [data, layoutDir]) if (d) rmSync(d, { recursive: true, force: true });
}, 30_000);

const env = () => ({ PELAGOS_DATA_DIR: data });
const pg = (args: string[]) => rt.run(args, { env: env(), timeoutMs: 60_000 });

describe("run -d IMAGE", () => {
  itIf(skip, "runs detached on its overlay; exec sees the image's users; start keeps the writable layer; rm releases it", async () => {
    const name = uniqueId();
    const r = await pg(["run", "-d", "--name", name, ref]);
    expect(r.code, explain(r)).toBe(0);
    const who = await pg(["exec", "-u", "imguser", name, "id", "-u"]);
    expect(who.stdout.trim(), explain(who)).toBe("4321");
    expect((await pg(["exec", name, "touch", "/kept"])).code).toBe(0);
    expect((await pg(["stop", "-t", "0", name])).code).toBe(0);
    const s = await pg(["start", name]);
    expect(s.code, explain(s)).toBe(0);
    const kept = await pg(["exec", name, "cat", "/kept"]);
    expect(kept.code, explain(kept)).toBe(0);
    expect((await pg(["rm", "-f", name])).code).toBe(0);
    expect(existsSync(`${data}/containers/${name}`)).toBe(false);
    expect(readdirSync(`${rt.root}/containers`)).not.toContain(name);
  }, 60_000);
});
