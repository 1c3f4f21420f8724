/**
 * `pelagos run IMAGE`: pulled from a real registry on loopback, run on an
 * overlay of its layers with the writable layer on disk, the image config
 * applied with docker's semantics.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { haveTools, push, startRegistry, type Registry } from "../../helpers/registry.ts";
import { busyboxEntries, Layout } from "../../helpers/oci-layout.ts";
import { explain, useRuntimeRoot, uniqueId } from "../../helpers/pelagos.ts";
import { itIf, requires } from "../../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos") ?? (haveTools() ? null : "needs docker-registry and skopeo (apt-get install docker-registry skopeo)");
const rt = useRuntimeRoot();
let reg: Registry | undefined;
let data = "";
let layoutDir = "";
const refs = { app: "", many: "" };

beforeAll(async () => {
  if (skip) return;
  data = mkdtempSync("/var/tmp/pelagos-run-image-");
  reg = await startRegistry();
  const l = new Layout();
  layoutDir = l.dir;
  const app = l.image({
    layers: [
      { entries: [...busyboxEntries(), { name: "bin/echo", type: "symlink", linkname: "busybox" }, { name: "bin/id", type: "symlink", linkname: "busybox" }, { name: "bin/cat", type: "symlink", linkname: "busybox" }] },
      { entries: [{ name: "etc/passwd", data: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n" }, { name: "work/", type: "dir", mode: 0o755 }, { name: "work/greeting", data: "from layer 2" }] },
    ],
    config: { Entrypoint: ["/bin/echo"], Cmd: ["default", "cmd"], Env: ["PATH=/bin", "FROM_IMAGE=1"], WorkingDir: "/work" },
  });
  l.tag("app", [app.manifest]);
  await push(l.dir, "app", `${reg.host}/app:1`);
  refs.app = `${reg.host}/app:1`;
  // 60 layers: more than mount(2)'s one page of lowerdir options could hold with these paths
  const many = l.image({
    layers: [{ entries: busyboxEntries(), compression: "none" }, ...Array.from({ length: 59 }, (_, i) => ({ entries: [{ name: `f${i}`, data: String(i) }], compression: "none" as const }))],
    config: { Cmd: ["/bin/sh", "-c", "cat /f0 /f58"] },
  });
  l.tag("many", [many.manifest]);
  await push(l.dir, "many", `${reg.host}/many:1`);
  refs.many = `${reg.host}/many:1`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  for (const d of [data, layoutDir]) if (d) rmSync(d, { recursive: true, force: true });
});

const run = (args: string[]) => rt.run(["run", ...args], { env: { PELAGOS_DATA_DIR: data }, timeoutMs: 60_000 });

describe("pelagos run IMAGE", () => {
  itIf(skip, "pulls when missing and runs Entrypoint + Cmd", async () => {
    const r = await run(["--rm", refs.app]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe("default cmd\n");
  });

  itIf(skip, "arguments replace Cmd; --entrypoint replaces the entrypoint and drops Cmd", async () => {
    expect((await run(["--rm", refs.app, "hello"])).stdout).toBe("hello\n");
    const r = await run(["--rm", "--entrypoint", "/bin/sh", refs.app, "-c", "echo $FROM_IMAGE; pwd; cat greeting"]);
    expect(r.stdout, explain(r)).toBe("1\n/work\nfrom layer 2");
    expect((await run(["--rm", "-e", "FROM_IMAGE=2", "--entrypoint", "/bin/sh", refs.app, "-c", "echo $FROM_IMAGE"])).stdout).toBe("2\n");
    expect((await run(["--rm", "-u", "app", "--entrypoint", "/bin/id", refs.app, "-u"])).stdout).toBe("1000\n");
  });

  itIf(skip, "writes go to a per-container upper dir on disk; the layers stay untouched", async () => {
    const name = uniqueId("pelagos-img");
    const r = await run(["--name", name, "--entrypoint", "/bin/sh", refs.app, "-c", "echo new > /newfile; echo changed > /work/greeting"]);
    expect(r.code, explain(r)).toBe(0);
    const upper = `${data}/containers/${name}/upper`;
    expect(readFileSync(`${upper}/newfile`, "utf8")).toBe("new\n");
    expect(readFileSync(`${upper}/work/greeting`, "utf8")).toBe("changed\n");
    expect((await run(["--rm", "--entrypoint", "/bin/cat", refs.app, "/work/greeting"])).stdout).toBe("from layer 2");
    expect((await rt.run(["rm", name], { env: { PELAGOS_DATA_DIR: data } })).code).toBe(0);
    expect(existsSync(`${data}/containers/${name}`)).toBe(false);
  });

  itIf(skip, "an image with 60 layers runs (no limit from the number of layers)", async () => {
    const r = await run(["--rm", refs.many]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe("058");
  });

  itIf(skip, "--pull never with a missing image is a clear error and leaves nothing", async () => {
    const name = uniqueId("pelagos-img");
    const r = await run(["--rm", "--name", name, "--pull", "never", `${reg!.host}/nosuch:1`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("--pull=never");
    expect(existsSync(`${rt.root}/containers/${name}`)).toBe(false);
    expect(existsSync(`${data}/containers/${name}`)).toBe(false);
    const bad = await run(["--rm", "--pull", "sometimes", refs.app]);
    expect(bad.code).toBe(125);
  });
});
