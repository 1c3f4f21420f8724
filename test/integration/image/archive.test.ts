/** `image save` / `image load`: our own archives, skopeo's docker-archive, a legacy docker save, gzip. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { haveTools, push, startRegistry, type Registry } from "../../helpers/registry.ts";
import { busyboxEntries, Layout } from "../../helpers/oci-layout.ts";
import { tar } from "../../helpers/tar-writer.ts";
import { binBuilt, describeTree, pelagos } from "../../helpers/image-cli.ts";

const ok = haveTools() && binBuilt() && process.getuid?.() === 0;
let reg: Registry | undefined;
const cleanup: string[] = [];
const dir = () => {
  const d = mkdtempSync("/var/tmp/pelagos-archive-");
  cleanup.push(d);
  return d;
};
let layout: Layout;
let ref = "";

beforeAll(async () => {
  if (!ok) return;
  reg = await startRegistry();
  layout = new Layout();
  cleanup.push(layout.dir);
  const img = layout.image({ layers: [{ entries: busyboxEntries() }, { entries: [{ name: "etc/.wh.passwd", data: "" }, { name: "x", data: "y" }], compression: "gzip" }] });
  layout.tag("v1", [img.manifest]);
  ref = `${reg.host}/arch:v1`;
  await push(layout.dir, "v1", ref);
});

afterAll(async () => {
  await reg?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

async function trees(data: string, r: string): Promise<string[][]> {
  const out = await pelagos(["image", "inspect", r], { PELAGOS_DATA_DIR: data });
  expect(out.stderr).toBe("");
  return (JSON.parse(out.stdout)[0].Layers as { Path: string }[]).map((l) => describeTree(l.Path));
}

describe.skipIf(!ok)("image save/load", () => {
  test("save then load into another store gives the same image", async () => {
    const a = dir();
    const b = dir();
    const file = `${dir()}/img.tar`;
    expect((await pelagos(["image", "pull", ref], { PELAGOS_DATA_DIR: a })).code).toBe(0);
    const s = await pelagos(["image", "save", ref, "-o", file], { PELAGOS_DATA_DIR: a });
    expect(s.stderr).toBe("");
    const l = await pelagos(["image", "load", "-i", file], { PELAGOS_DATA_DIR: b });
    expect(l.stderr).toBe("");
    expect(l.stdout).toContain(`Loaded image: ${ref}`);
    expect(await trees(b, ref)).toEqual(await trees(a, ref));
    // The archive is a valid OCI layout for skopeo too.
    const x = dir();
    const p = Bun.spawnSync(["tar", "-xf", file, "-C", x]);
    expect(p.exitCode).toBe(0);
    const sk = Bun.spawnSync(["skopeo", "inspect", "--raw", `oci:${x}`]);
    expect(sk.exitCode).toBe(0);
    // gzip-compressed archive from stdin
    const c = dir();
    const gz = await pelagos(["image", "load"], { PELAGOS_DATA_DIR: c }, undefined);
    expect(gz.code).not.toBe(0);
    const gzFile = `${dir()}/img.tar.gz`;
    writeFileSync(gzFile, gzipSync(readFileSync(file)));
    expect((await pelagos(["image", "load", "-i", gzFile, "--tag", "renamed:1"], { PELAGOS_DATA_DIR: c })).stderr).toBe("");
    expect(await trees(c, "renamed:1")).toEqual(await trees(a, ref));
  });

  test("loads skopeo's docker-archive (docker save format)", async () => {
    const file = `${dir()}/docker.tar`;
    const p = Bun.spawnSync(["skopeo", "copy", "--quiet", `oci:${layout.dir}:v1`, `docker-archive:${file}:legacy/app:2`]);
    expect(p.stderr.toString()).toBe("");
    const b = dir();
    const l = await pelagos(["image", "load", "-i", file], { PELAGOS_DATA_DIR: b });
    expect(l.stderr).toBe("");
    expect(l.stdout).toContain("docker.io/legacy/app:2");
    const t = await trees(b, "legacy/app:2");
    expect(t[1]).toEqual(["d etc 0755 0:0", "c etc/passwd 0,0", 'f x 0644 0:0 "y"']); // etc/ implied, 0755 like docker
  });

  test("a legacy archive with a symlinked duplicate layer and an OCI layout needing --tag", async () => {
    const layer = tar([{ name: "hello", data: "world" }]);
    const diff = `sha256:${new Bun.CryptoHasher("sha256").update(layer).digest("hex")}`;
    const cfg = JSON.stringify({ architecture: process.arch === "x64" ? "amd64" : "arm64", os: "linux", rootfs: { type: "layers", diff_ids: [diff, diff] } });
    const archive = tar([
      { name: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["old:1"], Layers: ["aaa/layer.tar", "bbb/layer.tar"] }]) },
      { name: "cfg.json", data: cfg },
      { name: "aaa/", type: "dir" },
      { name: "aaa/layer.tar", data: layer },
      { name: "bbb/", type: "dir" },
      { name: "bbb/layer.tar", type: "symlink", linkname: "../aaa/layer.tar" },
    ]);
    const file = `${dir()}/legacy.tar`;
    writeFileSync(file, archive);
    const b = dir();
    const l = await pelagos(["image", "load", "-i", file], { PELAGOS_DATA_DIR: b });
    expect(l.stderr).toBe("");
    expect((await trees(b, "old:1"))[0]).toEqual(['f hello 0644 0:0 "world"']);
    // OCI layout whose ref.name is only a tag
    const ociFile = `${dir()}/oci.tar`;
    expect(Bun.spawnSync(["tar", "-cf", ociFile, "-C", layout.dir, "."]).exitCode).toBe(0);
    const noName = await pelagos(["image", "load", "-i", ociFile], { PELAGOS_DATA_DIR: b });
    expect(noName.stderr).toContain("use --tag");
    expect((await pelagos(["image", "load", "-i", ociFile, "--tag", "oci/img:3"], { PELAGOS_DATA_DIR: b })).stderr).toBe("");
  });

  test("a corrupt archive blob is rejected", async () => {
    const a = dir();
    const file = `${dir()}/img.tar`;
    expect((await pelagos(["image", "pull", ref], { PELAGOS_DATA_DIR: a })).code).toBe(0);
    expect((await pelagos(["image", "save", ref, "-o", file], { PELAGOS_DATA_DIR: a })).code).toBe(0);
    const bytes = readFileSync(file);
    const i = bytes.indexOf(Buffer.from("PATH=/bin"));
    expect(i).toBeGreaterThan(-1); // in the config blob
    bytes[i] = 0x52;
    writeFileSync(file, bytes);
    const b = dir();
    const l = await pelagos(["image", "load", "-i", file], { PELAGOS_DATA_DIR: b });
    expect(l.code).not.toBe(0);
    expect(l.stderr).toContain("Cannot verify blob");
    expect((await pelagos(["image", "ls", "-q"], { PELAGOS_DATA_DIR: b })).stdout).toBe("");
  });
});
