/**
 * A real registry (Debian's `docker-registry`, the CNCF distribution server)
 * on a random loopback port, optionally with htpasswd basic auth. `stop()`
 * kills the process this helper started (by PID) and removes its files.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";

export type Registry = { host: string; port: number; dir: string; storage: string; proc: Subprocess; stop: () => Promise<void> };

let installTried = false;

/**
 * True when docker-registry and skopeo are present. As root, installs the
 * Debian packages (docker-registry, skopeo) once if they are missing.
 */
export function haveTools(): boolean {
  const present = () => Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null;
  if (present() || installTried || process.getuid?.() !== 0) return present();
  installTried = true;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => Bun.spawnSync(["apt-get", "install", "-y", "-qq", "docker-registry", "skopeo"], { env, stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  if (!install()) {
    Bun.spawnSync(["apt-get", "update", "-qq"], { env, stdout: "ignore", stderr: "ignore" });
    install();
  }
  return present();
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export async function startRegistry(auth?: { user: string; password: string }): Promise<Registry> {
  const dir = mkdtempSync("/var/tmp/pelagos-registry-");
  const port = await freePort();
  const storage = `${dir}/data`;
  let authCfg = "";
  if (auth) {
    const hash = await Bun.password.hash(auth.password, { algorithm: "bcrypt", cost: 4 });
    writeFileSync(`${dir}/htpasswd`, `${auth.user}:${hash}\n`);
    authCfg = `auth:\n  htpasswd:\n    realm: pelagos-test\n    path: ${dir}/htpasswd\n`;
  }
  writeFileSync(
    `${dir}/config.yml`,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authCfg}`,
  );
  const proc = Bun.spawn(["docker-registry", "serve", `${dir}/config.yml`], { stdout: "ignore", stderr: "pipe" });
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      await r.body?.cancel();
      if (r.status === 200 || r.status === 401) return { host, port, dir, storage, proc, stop };
    } catch {
      /* not up yet */
    }
    await Bun.sleep(25);
  }
  await stop();
  throw new Error(`docker-registry did not start on ${host}`);
}

/** Pushes an OCI layout dir to the registry with skopeo; `wrap` prefixes the command (e.g. to run it in a netns). */
export async function push(
  layout: string,
  tag: string,
  dest: string,
  opts: { creds?: string; all?: boolean; format?: "v2s2" | "oci"; wrap?: (argv: string[]) => string[] } = {},
): Promise<void> {
  const args = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"];
  if (opts.creds) args.push("--dest-creds", opts.creds);
  if (opts.all) args.push("--all");
  if (opts.format) args.push("--format", opts.format);
  args.push(`oci:${layout}:${tag}`, `docker://${dest}`);
  const p = Bun.spawn(opts.wrap ? opts.wrap(args) : args, { stdout: "pipe", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`skopeo copy failed (${code}): ${err}`);
}

/** Path of a blob inside the registry's filesystem storage (for tampering tests). */
export function registryBlobPath(reg: Registry, digest: string): string {
  const hex = digest.slice(7);
  return `${reg.storage}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
}

/**
 * Pushes a manifest or an index (recursively, nested indexes included) and
 * the blobs it names from a layout dir with the registry HTTP API directly:
 * skopeo would recompress uncompressed layers, cannot read Docker media types
 * from an OCI layout, and refuses nested indexes.
 */
export async function pushRaw(reg: Registry, layoutDir: string, repo: string, tag: string, manifestDigest: string): Promise<void> {
  const { readFileSync } = await import("node:fs");
  const blob = (d: string) => readFileSync(`${layoutDir}/blobs/sha256/${d.slice(7)}`);
  const manifest = blob(manifestDigest);
  const m = JSON.parse(manifest.toString()) as { mediaType: string; config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
  for (const child of m.manifests ?? []) await pushRaw(reg, layoutDir, repo, child.digest, child.digest);
  for (const d of m.config ? [m.config.digest, ...(m.layers ?? []).map((l) => l.digest)] : []) {
    const start = await fetch(`http://${reg.host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
    const loc = new URL(start.headers.get("location")!, `http://${reg.host}`);
    loc.searchParams.set("digest", d);
    const put = await fetch(loc, { method: "PUT", body: blob(d), headers: { "Content-Type": "application/octet-stream" } });
    if (put.status !== 201) throw new Error(`upload ${d}: ${put.status} ${await put.text()}`);
  }
  const r = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "Content-Type": m.mediaType } });
  if (r.status !== 201) throw new Error(`manifest put: ${r.status} ${await r.text()}`);
}
