/**
 * `pelagos image pull` against a real registry on loopback: formats,
 * platforms, the exact unpacked trees, auth, tampering, crash repair,
 * concurrency. Needs docker-registry and skopeo (apt); skipped without them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { haveTools, push, pushRaw, registryBlobPath, startRegistry, type Registry } from "../../helpers/registry.ts";
import { busyboxEntries, hostArch, Layout } from "../../helpers/oci-layout.ts";
import { BIN, binBuilt, describeTree, pelagos } from "../../helpers/image-cli.ts";

const ok = haveTools() && binBuilt() && process.getuid?.() === 0;
let reg: Registry | undefined;
let authReg: Registry | undefined;
const cleanup: string[] = [];
let data = "";
const env = () => ({ PELAGOS_DATA_DIR: data, DOCKER_CONFIG: `${data}-docker` });

function freshData(): void {
  data = mkdtempSync("/var/tmp/pelagos-data-");
  cleanup.push(data, `${data}-docker`);
}

async function inspect(ref: string): Promise<{ Layers: { Path: string; DiffId: string }[]; Digest: string; Architecture: string; Config: Record<string, unknown> }> {
  const r = await pelagos(["image", "inspect", ref], env());
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout)[0];
}

beforeAll(async () => {
  if (!ok) return;
  reg = await startRegistry();
  authReg = await startRegistry({ user: "alice", password: "s3cret" });
});

afterAll(async () => {
  await reg?.stop();
  await authReg?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!ok)("image pull", () => {
  test("single-layer busybox image: pull, ls, inspect", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const img = l.image({ layers: [{ entries: busyboxEntries() }], config: { Entrypoint: ["/bin/sh"], WorkingDir: "/tmp" } });
    l.tag("v1", [img.manifest]);
    await push(l.dir, "v1", `${reg!.host}/busybox:v1`);
    const r = await pelagos(["image", "pull", `${reg!.host}/busybox:v1`], env());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${reg!.host}/busybox:v1`);
    const info = await inspect(`${reg!.host}/busybox:v1`);
    expect(info.Layers.length).toBe(1);
    expect(info.Layers[0]!.DiffId).toBe(img.diffIds[0]!);
    expect(info.Config.WorkingDir).toBe("/tmp");
    const root = info.Layers[0]!.Path;
    expect(readFileSync(`${root}/bin/busybox`).equals(readFileSync("/bin/busybox"))).toBe(true);
    expect(describeTree(root).filter((x) => !x.startsWith("f bin/busybox") && !x.startsWith("f bin/ls"))).toEqual([
      "d bin 0755 0:0",
      "l bin/sh -> busybox",
      "d etc 0755 0:0",
      'f etc/passwd 0644 0:0 "root:x:0:0:root:/root:/bin/sh\\n"',
      "d tmp 1777 0:0",
    ]);
    const ls = await pelagos(["image", "ls", "--format", "json"], env());
    const rows = JSON.parse(ls.stdout);
    expect(rows.length).toBe(1);
    expect(rows[0].Reference).toBe(`${reg!.host}/busybox:v1`);
    expect(rows[0].Size).toBeGreaterThan(1_900_000);
    // A second pull reuses everything.
    const again = await pelagos(["image", "pull", "-q", `${reg!.host}/busybox:v1`], env());
    expect(again.stdout.trim()).toBe(`${reg!.host}/busybox:v1`);
  });

  test("several layers: whiteout, opaque dir, hard links, file replaced by a directory", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const img = l.image({
      layers: [
        { entries: [
          { name: "etc/", type: "dir" }, { name: "etc/gone", data: "bye" }, { name: "etc/keep", data: "stay" },
          { name: "var/", type: "dir" }, { name: "var/old", data: "old" },
          { name: "f", data: "a file" },
        ] },
        { compression: "zstd", entries: [
          { name: "etc/.wh.gone", data: "" },
          { name: "var/", type: "dir", mode: 0o750 }, { name: "var/.wh..wh..opq", data: "" }, { name: "var/new", data: "new" },
          { name: "f/", type: "dir" }, { name: "f/inner", data: "now a dir" },
          { name: "h1", data: "linked", mode: 0o600, uid: 7, gid: 8 }, { name: "h2", type: "hardlink", linkname: "h1" },
        ] },
        { compression: "none", entries: [{ name: "etc/keep", data: "changed", mode: 0o4755 }] },
      ],
    });
    l.tag("multi", [img.manifest]);
    await push(l.dir, "multi", `${reg!.host}/multi:1`);
    const r = await pelagos(["image", "pull", `${reg!.host}/multi:1`], env());
    expect(r.stderr).toBe("");
    const info = await inspect(`${reg!.host}/multi:1`);
    expect(info.Layers.map((x) => x.DiffId)).toEqual(img.diffIds);
    const [l0, l1, l2] = info.Layers.map((x) => describeTree(x.Path));
    expect(l0).toEqual([
      "d etc 0755 0:0", 'f etc/gone 0644 0:0 "bye"', 'f etc/keep 0644 0:0 "stay"', 'f f 0644 0:0 "a file"',
      "d var 0755 0:0", 'f var/old 0644 0:0 "old"',
    ]);
    expect(l1).toEqual([
      "d etc 0755 0:0", "c etc/gone 0,0", "d f 0755 0:0", 'f f/inner 0644 0:0 "now a dir"',
      'f h1 0600 7:8 "linked" links=2', 'f h2 0600 7:8 "linked" links=2',
      "d var 0750 0:0 opaque", 'f var/new 0644 0:0 "new"',
    ]);
    expect(l2).toEqual(["d etc 0755 0:0", 'f etc/keep 4755 0:0 "changed"']);
    // The kernel agrees: mounted as an overlay (in a private mount namespace), the merged tree is right.
    const mnt = mkdtempSync("/var/tmp/pelagos-mnt-");
    cleanup.push(mnt);
    const lower = info.Layers.map((x) => x.Path).reverse().join(":");
    const m = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "sh", "-c",
      `mount -t overlay overlay -o ro,lowerdir=${lower} ${mnt} && cd ${mnt} && find . | sort && cat etc/keep f/inner`]);
    expect(m.stderr.toString()).toBe("");
    expect(m.stdout.toString().split("\n")).toEqual([
      ".", "./etc", "./etc/keep", "./f", "./f/inner", "./h1", "./h2", "./var", "./var/new", "changednow a dir",
    ]);
  });

  test("multi-arch index: host platform by default, --platform picks another", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const other = hostArch() === "amd64" ? "arm64" : "amd64";
    const a = l.image({ layers: [{ entries: [{ name: "arch", data: hostArch() }] }] });
    const b = l.image({ layers: [{ entries: [{ name: "arch", data: other }] }], architecture: other, ...(other === "arm64" ? { variant: "v8" } : {}) });
    l.tag("multi", [a.manifest, b.manifest]);
    await push(l.dir, "multi", `${reg!.host}/multiarch:1`, { all: true });
    expect((await pelagos(["image", "pull", `${reg!.host}/multiarch:1`], env())).stderr).toBe("");
    let info = await inspect(`${reg!.host}/multiarch:1`);
    expect(readFileSync(`${info.Layers[0]!.Path}/arch`, "utf8")).toBe(hostArch());
    const r = await pelagos(["image", "pull", "--platform", `linux/${other}`, `${reg!.host}/multiarch:1`], env());
    expect(r.stderr).toBe("");
    info = await inspect(`${reg!.host}/multiarch:1`);
    expect(info.Architecture).toBe(other);
    expect(readFileSync(`${info.Layers[0]!.Path}/arch`, "utf8")).toBe(other);
    const bad = await pelagos(["image", "pull", "--platform", "linux/s390x", `${reg!.host}/multiarch:1`], env());
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`Cannot find platform "linux/s390x"`);
  });

  test("Docker media types, zstd and uncompressed layers; a layer shared by two images is stored once", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const shared = [{ name: "shared", data: "same bytes" }];
    const d = l.image({ docker: true, layers: [{ entries: shared, compression: "gzip" }, { entries: [{ name: "d", data: "docker" }], compression: "none" }] });
    const z = l.image({ layers: [{ entries: shared, compression: "zstd" }] });
    l.tag("z", [z.manifest]);
    await pushRaw(reg!, l.dir, "docker", "1", d.manifest.digest);
    await push(l.dir, "z", `${reg!.host}/zstd:1`);
    for (const ref of [`${reg!.host}/docker:1`, `${reg!.host}/zstd:1`]) {
      const r = await pelagos(["image", "pull", ref], env());
      expect(r.stderr).toBe("");
    }
    const di = await inspect(`${reg!.host}/docker:1`);
    const zi = await inspect(`${reg!.host}/zstd:1`);
    expect((di as unknown as { MediaType: string }).MediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(di.Layers.map((x) => (x as unknown as { MediaType: string }).MediaType)).toEqual([
      "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.docker.image.rootfs.diff.tar"]);
    expect((zi.Layers[0] as unknown as { MediaType: string }).MediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
    expect(di.Layers[0]!.Path).toBe(zi.Layers[0]!.Path);
    expect(readdirSync(`${data}/layers`).length).toBe(2);
    expect(readFileSync(`${di.Layers[1]!.Path}/d`, "utf8")).toBe("docker");
  });

  test("basic auth: refused anonymously, accepted with docker config or login", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const img = l.image({ layers: [{ entries: [{ name: "secret", data: "x" }] }] });
    l.tag("s", [img.manifest]);
    await push(l.dir, "s", `${authReg!.host}/private:1`, { creds: "alice:s3cret" });
    const anon = await pelagos(["image", "pull", `${authReg!.host}/private:1`], env());
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toContain("authentication required");
    const wrong = await pelagos(["image", "login", authReg!.host, "-u", "alice", "--password-stdin"], env(), "nope\n");
    expect(wrong.code).not.toBe(0);
    const login = await pelagos(["image", "login", authReg!.host, "-u", "alice", "--password-stdin"], env(), "s3cret\n");
    expect(login.stderr).toBe("");
    const cfg = JSON.parse(readFileSync(`${data}-docker/config.json`, "utf8"));
    expect(cfg.auths[authReg!.host].auth).toBe(Buffer.from("alice:s3cret").toString("base64"));
    expect((await pelagos(["image", "pull", `${authReg!.host}/private:1`], env())).stderr).toBe("");
    expect((await pelagos(["image", "logout", authReg!.host], env())).code).toBe(0);
    expect((await pelagos(["image", "pull", `${authReg!.host}/private:1`], env())).code).not.toBe(0);
    // --username/--password on pull
    const flags = await pelagos(["image", "pull", "-u", "alice", "--password", "s3cret", `${authReg!.host}/private:1`], env());
    expect(flags.stderr).toBe("");
  });

  test("a credential helper from credHelpers is used", async () => {
    freshData();
    const bin = `${data}-docker/bin`;
    mkdirSync(bin, { recursive: true });
    writeFileSync(`${bin}/docker-credential-pelagostest`, `#!/bin/sh\n[ "$1" = get ] || exit 1\nread s\necho '{"ServerURL":"'$s'","Username":"alice","Secret":"s3cret"}'\n`, { mode: 0o755 });
    writeFileSync(`${data}-docker/config.json`, JSON.stringify({ credHelpers: { [authReg!.host]: "pelagostest" } }));
    const r = await pelagos(["image", "pull", `${authReg!.host}/private:1`], { ...env(), PATH: `${bin}:${process.env.PATH}` });
    expect(r.stderr).toBe("");
  });

  test("an uncompressed OCI layer", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const img = l.image({ layers: [{ entries: [{ name: "plain", data: "tar" }], compression: "none" }] });
    await pushRaw(reg!, l.dir, "plain", "1", img.manifest.digest);
    expect((await pelagos(["image", "pull", `${reg!.host}/plain:1`], env())).stderr).toBe("");
    const info = await inspect(`${reg!.host}/plain:1`);
    expect((info.Layers[0] as unknown as { MediaType: string }).MediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    expect(describeTree(info.Layers[0]!.Path)).toEqual(['f plain 0644 0:0 "tar"']);
  });

  test("a host without libz.so.1: gzip layers inflate through Bun's zlib instead", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const img = l.image({ layers: [{ entries: [{ name: "big", data: "zlib ".repeat(300_000) }] }] });
    await pushRaw(reg!, l.dir, "nozlib", "1", img.manifest.digest);
    // hidden in a private mount namespace only: dlopen("libz.so.1") then finds /dev/null
    const script = [
      "set -e",
      "hidden=0",
      'for f in /lib/*/libz.so.1 /usr/lib/*/libz.so.1 /lib64/libz.so.1 /usr/lib64/libz.so.1 /lib/libz.so.1 /usr/lib/libz.so.1; do if [ -e "$f" ]; then mount --bind /dev/null "$(readlink -f "$f")"; hidden=1; fi; done',
      '[ "$hidden" = 1 ] || { echo "no libz.so.1 found to hide" >&2; exit 99; }',
      'exec "$0" image pull -q "$1"',
    ].join("\n");
    const r = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "sh", "-c", script, BIN, `${reg!.host}/nozlib:1`], {
      env: { ...process.env, ...env() },
      stderr: "pipe",
    });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    const info = await inspect(`${reg!.host}/nozlib:1`);
    expect(info.Layers[0]!.DiffId).toBe(img.diffIds[0]!);
    expect(readFileSync(`${info.Layers[0]!.Path}/big`, "utf8")).toBe("zlib ".repeat(300_000));
  });

  /** Overwrites `text` (8 bytes) inside the registry's copy of a blob with "evilevil"; returns what puts it back. */
  const tamper = (digest: string, text: string) => {
    const path = registryBlobPath(reg!, digest);
    const blob = readFileSync(path);
    const at = blob.indexOf(Buffer.from(text));
    if (at === -1) throw new Error(`"${text}" is not in blob ${digest}`);
    writeFileSync(path, Buffer.concat([blob.subarray(0, at), Buffer.from("evilevil"), blob.subarray(at + 8)]));
    return () => writeFileSync(path, blob);
  };

  // The default hashes on a native thread where there is one (x86-64 with SHA-NI); this is the other way.
  test("without the native helpers (PELAGOS_NATIVE=0, as on arm64 or an old glibc): the same verified layers; a tampered blob is still rejected", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const big = new Uint8Array(3 << 20).map((_, i) => (i * 7919) & 0xff);
    const img = l.image({ layers: [{ entries: [{ name: "big", data: big }] }, { entries: [{ name: "small", data: "x".repeat(9000) }] }] });
    await pushRaw(reg!, l.dir, "hashthread", "1", img.manifest.digest);
    const r = await pelagos(["image", "pull", "-q", `${reg!.host}/hashthread:1`], { ...env(), PELAGOS_NATIVE: "0" });
    expect(r.code, r.stderr).toBe(0);
    const info = await inspect(`${reg!.host}/hashthread:1`);
    expect(info.Layers.map((x) => x.DiffId)).toEqual(img.diffIds);
    expect(new Uint8Array(readFileSync(`${info.Layers[0]!.Path}/big`))).toEqual(big);

    const t = new Layout();
    cleanup.push(t.dir);
    const bad = t.image({ layers: [{ entries: [{ name: "b", data: "genuine!" }], compression: "none" }] });
    await pushRaw(reg!, t.dir, "hashthread-bad", "1", bad.manifest.digest);
    const restore = tamper(bad.layers[0]!.digest, "genuine!");
    try {
      const e = await pelagos(["image", "pull", `${reg!.host}/hashthread-bad:1`], { ...env(), PELAGOS_NATIVE: "0" });
      expect(e.code).not.toBe(0);
      expect(e.stderr).toContain("Cannot verify layer blob");
      expect(existsSync(`${data}/layers/${bad.diffIds[0]!.slice(7)}`)).toBe(false);
    } finally {
      restore();
    }
  });

  test("a full store: a clear error (E_STORE), exit 1, nothing half-written left", async () => {
    // The data dir is a 3 MiB tmpfs mounted in a private mount namespace (unshare -m), so nothing
    // is mounted on the host, even if this test fails half-way.
    const l = new Layout();
    cleanup.push(l.dir);
    const noise = new Uint8Array(6 << 20).map(() => (Math.random() * 256) | 0); // incompressible: 6 MB blob and file
    const img = l.image({ layers: [{ entries: [{ name: "small", data: "x".repeat(1000) }] }, { entries: [{ name: "big", data: noise }] }] });
    await pushRaw(reg!, l.dir, "full", "1", img.manifest.digest);
    const dir = mkdtempSync("/var/tmp/pelagos-full-");
    cleanup.push(dir);
    const script = `mount -t tmpfs -o size=3m tmpfs "$1" || exit 99; PELAGOS_DATA_DIR="$1" "$2" image pull -q "$3"; echo "exit=$?"; cd "$1" && find . -mindepth 1 | sort`;
    const p = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dir, BIN, `${reg!.host}/full:1`], { stdout: "pipe", stderr: "pipe" });
    const out = p.stdout.toString();
    const err = p.stderr.toString();
    expect(out, err).toContain("exit=1");
    expect(err).toContain(`pelagos: error: Cannot pull "${reg!.host}/full:1": cannot write to the image store "${dir}": no space left on device (ENOSPC)`);
    expect(err).not.toContain("Internal error");
    // What is left: no temp entry, no image record, nothing of the big layer. The small layer may
    // be there, complete and verified (as docker keeps them too): the next pull reuses it.
    const left = out.split("\n").slice(1).filter((x) => x !== "");
    expect(left.filter((x) => /^\.\/(tmp|images)\/./.test(x))).toEqual([]);
    const big = (x: string) => x.includes(img.layers[1]!.digest.slice(7)) || x.includes(img.diffIds[1]!.slice(7));
    expect(left.filter((x) => big(x) && !x.startsWith("./locks/"))).toEqual([]); // locks/ holds empty lock files, kept by design
    for (const layer of left.filter((x) => /^\.\/layers\/[0-9a-f]{64}$/.test(x))) expect(left).toContain(`${layer}/meta.json`);
  });

  test("a tampered blob is rejected and nothing is stored", async () => {
    freshData();
    const l = new Layout();
    cleanup.push(l.dir);
    const img = l.image({ layers: [{ entries: [{ name: "a", data: "a".repeat(5000) }] }, { entries: [{ name: "b", data: "original" }], compression: "none" }] });
    await pushRaw(reg!, l.dir, "tampered", "1", img.manifest.digest);
    const restore = tamper(img.layers[1]!.digest, "original");
    try {
      const r = await pelagos(["image", "pull", `${reg!.host}/tampered:1`], env());
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("Cannot verify layer blob");
      expect(existsSync(`${data}/blobs/sha256/${img.layers[1]!.digest.slice(7)}`)).toBe(false);
      expect(existsSync(`${data}/layers/${img.diffIds[1]!.slice(7)}`)).toBe(false);
      expect(readdirSync(`${data}/images`)).toEqual([]);
      expect(readdirSync(`${data}/tmp`)).toEqual([]);
    } finally {
      restore();
    }
  });
});
