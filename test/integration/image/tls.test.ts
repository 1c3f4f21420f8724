/**
 * `pelagos image pull` over TLS from registries on a non-loopback address
 * (10.213.0.x inside a network namespace of the test: see helpers/tls-lab.ts),
 * where certificates are verified and plain HTTP needs --insecure: untrusted
 * certificate, --insecure, a CA trusted through docker's certs.d layout (and
 * NODE_EXTRA_CA_CERTS), a name mismatch, client certificates, a plain-HTTP
 * registry with and without --insecure.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { Layout } from "../../helpers/oci-layout.ts";
import { startTlsLab, tlsLabReason, type LabRegistry, type TlsLab } from "../../helpers/tls-lab.ts";
import { makeTempDir, removeTempDir } from "../../helpers/tmp.ts";
import { describeIf } from "../../helpers/requires.ts";
import type { Result } from "../../helpers/image-cli.ts";

const skip = tlsLabReason();
const IP = "10.213.0.2";
/** Also on the namespace's lo, but not in the server certificate. */
const OTHER_IP = "10.213.0.3";
let lab: TlsLab | undefined;
let plain: LabRegistry | undefined;
const dirs: string[] = [];
let layoutDir = "";

beforeAll(async () => {
  if (skip) return;
  lab = await startTlsLab([IP], [OTHER_IP]);
  // 443: references without a port, and a certs.d dir named by the bare address, as in docker.
  await lab.registry({ addr: "0.0.0.0:443", tls: true });
  await lab.registry({ addr: "0.0.0.0:5443", tls: true, clientCa: true });
  plain = await lab.registry({ addr: "0.0.0.0:5000" });
  const l = new Layout();
  layoutDir = l.dir;
  const img = l.image({ layers: [{ entries: [{ name: "hello", data: "over tls\n" }] }] });
  l.tag("v1", [img.manifest]);
  await lab.push(l.dir, "v1", `${IP}/t/hello:v1`);
}, 20_000);

afterAll(async () => {
  await lab?.stop();
  for (const d of dirs) removeTempDir(d);
  if (layoutDir) rmSync(layoutDir, { recursive: true, force: true });
});

/** A fresh store and an empty certs dir (the host's /etc/docker/certs.d never matters). */
function fresh(): { env: Record<string, string>; data: string; certs: string } {
  const data = makeTempDir("tls-data");
  const certs = makeTempDir("tls-certs");
  dirs.push(data, certs);
  return { data, certs, env: { PELAGOS_DATA_DIR: data, PELAGOS_CERTS_DIR: certs, DOCKER_CONFIG: `${data}/docker` } };
}

function trust(certs: string, host: string, files: Record<string, string> = { "ca.crt": lab!.certs.ca }): void {
  mkdirSync(`${certs}/${host}`, { recursive: true });
  for (const [name, src] of Object.entries(files)) copyFileSync(src, `${certs}/${host}/${name}`);
}

/** Everything in the store but its empty skeleton and lock files. */
function storeContent(data: string): string[] {
  const skeleton = new Set(["blobs", "blobs/sha256", "layers", "images", "users", "locks", "tmp", "docker"]);
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(`${data}/${rel}`);
    } catch {
      return;
    }
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(`${data}/${r}`).isDirectory()) walk(r);
      if (!skeleton.has(r) && !r.startsWith("locks/")) out.push(r);
    }
  };
  walk("");
  return out;
}

function expectCleanFailure(r: Result, data: string, message: string): void {
  expect(r.code).toBe(125);
  expect(r.stdout).toBe("");
  // One line, the error only: no stack trace, no "Internal error".
  expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(message)]);
  expect(r.stderr).toStartWith("pelagos: error: ");
  expect(storeContent(data)).toEqual([]);
}

async function expectPulled(r: Result, ref: string, env: Record<string, string>): Promise<void> {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const info = JSON.parse((await lab!.pelagos(["image", "inspect", ref], env)).stdout)[0];
  expect(readFileSync(`${info.Layers[0].Path}/hello`, "utf8")).toBe("over tls\n");
}

describeIf(skip, "image pull over TLS from a non-loopback registry", () => {
  test("untrusted self-signed CA: clear E_TLS error naming the host and how to trust it, nothing stored", async () => {
    const { env, data, certs } = fresh();
    trust(certs, OTHER_IP); // another host's CA dir does not apply
    const r = await lab!.pelagos(["image", "pull", `${IP}/t/hello:v1`], env);
    expectCleanFailure(r, data, `Cannot connect to registry "${IP}" over TLS: certificate signed by an unknown authority`);
    expect(r.stderr).toContain(`trust its CA in "${certs}/${IP}/ca.crt" or use --insecure`);
    expect((await lab!.pelagos(["image", "ls", "-q"], env)).stdout).toBe("");
  });

  test("--insecure: the same registry, verification off", async () => {
    const { env } = fresh();
    await expectPulled(await lab!.pelagos(["image", "pull", "-q", "--insecure", `${IP}/t/hello:v1`], env), `${IP}/t/hello:v1`, env);
  });

  test("the CA in certs.d/<host>/ca.crt (docker's layout): verified pull", async () => {
    const { env, certs } = fresh();
    trust(certs, IP);
    await expectPulled(await lab!.pelagos(["image", "pull", "-q", `${IP}/t/hello:v1`], env), `${IP}/t/hello:v1`, env);
  });

  test("the CA in NODE_EXTRA_CA_CERTS (honoured by bun): verified pull", async () => {
    const { env } = fresh();
    const e = { ...env, NODE_EXTRA_CA_CERTS: lab!.certs.ca };
    await expectPulled(await lab!.pelagos(["image", "pull", "-q", `${IP}/t/hello:v1`], e), `${IP}/t/hello:v1`, e);
  });

  test("a trusted CA but an address the certificate does not name: E_TLS", async () => {
    const { env, data, certs } = fresh();
    trust(certs, OTHER_IP);
    const r = await lab!.pelagos(["image", "pull", `${OTHER_IP}/t/hello:v1`], env);
    expectCleanFailure(r, data, `Cannot connect to registry "${OTHER_IP}" over TLS: certificate is not valid for "${OTHER_IP}"`);
  });

  test("a registry requiring client certificates: refused without, pulled with certs.d/<host:port>/client.cert + client.key", async () => {
    const { env, data, certs } = fresh();
    const host = `${IP}:5443`;
    trust(certs, host);
    const refused = await lab!.pelagos(["image", "pull", `${host}/t/hello:v1`], env);
    expectCleanFailure(refused, data, `Cannot connect to registry "${host}" over TLS: handshake failed (EPROTO): if the registry requires a client certificate`);
    expect(refused.stderr).toContain(`"${certs}/${host}/client.cert" and "client.key"`);
    trust(certs, host, { "client.cert": lab!.certs.clientCert, "client.key": lab!.certs.clientKey });
    await expectPulled(await lab!.pelagos(["image", "pull", "-q", `${host}/t/hello:v1`], env), `${host}/t/hello:v1`, env);
  });

  test("plain-HTTP registry: no silent fallback without --insecure; HTTPS then HTTP with it", async () => {
    const { env, data } = fresh();
    const ref = `${IP}:5000/t/hello:v1`;
    const r = await lab!.pelagos(["image", "pull", ref], env);
    expectCleanFailure(r, data, `Cannot connect to registry "${IP}:5000" over TLS: the registry speaks plain HTTP (EPROTO): use --insecure to allow plain HTTP`);
    // Only the unauthenticated GET /v2/ that explains the failed handshake reached it over HTTP.
    expect(plain!.requests()).toEqual(["GET /v2/"]);
    await expectPulled(await lab!.pelagos(["image", "pull", "-q", "--insecure", ref], env), ref, env);
    expect(plain!.requests()).toContain("GET /v2/t/hello/manifests/v1");
  });
});
