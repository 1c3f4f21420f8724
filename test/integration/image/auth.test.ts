/** Bearer-token auth, retries on 429/503, mirrors from registries.toml, nested indexes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { haveTools, push, pushRaw, startRegistry, type Registry } from "../../helpers/registry.ts";
import { startTokenProxy, type TokenProxy } from "../../helpers/token-proxy.ts";
import { hostArch, Layout } from "../../helpers/oci-layout.ts";
import { binBuilt, pelagos } from "../../helpers/image-cli.ts";

const ok = haveTools() && binBuilt() && process.getuid?.() === 0;
let reg: Registry | undefined;
const proxies: TokenProxy[] = [];
const cleanup: string[] = [];
let digest = "";

const data = () => {
  const d = mkdtempSync("/var/tmp/pelagos-data-");
  cleanup.push(d, `${d}-docker`);
  return { PELAGOS_DATA_DIR: d, DOCKER_CONFIG: `${d}-docker` };
};

beforeAll(async () => {
  if (!ok) return;
  reg = await startRegistry();
  const l = new Layout();
  cleanup.push(l.dir);
  const img = l.image({ layers: [{ entries: [{ name: "hello", data: "bearer" }] }] });
  l.tag("v1", [img.manifest]);
  await push(l.dir, "v1", `${reg.host}/lib/hello:v1`);
  digest = img.manifest.digest;
  // A nested index: top index → inner index → manifest.
  const inner = l.tag("inner", [img.manifest, { ...img.manifest, platform: { os: "linux", architecture: "riscv64" } }]);
  const top = l.tag("nested", [{ ...inner, platform: undefined } as never, { ...img.manifest, platform: { os: "linux", architecture: "s390x" } }]);
  await pushRaw(reg, l.dir, "lib/nested", "1", top.digest);
});

afterAll(async () => {
  for (const p of proxies) p.stop();
  await reg?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!ok)("registry protocol", () => {
  test("anonymous bearer token flow (realm, service, scope)", async () => {
    const p = startTokenProxy(reg!.host);
    proxies.push(p);
    const r = await pelagos(["image", "pull", `${p.host}/lib/hello:v1`], data());
    expect(r.stderr).toBe("");
    expect(p.requests.some((x) => x === "GET /token?service=test-registry&scope=repository%3Alib%2Fhello%3Apull")).toBe(true);
  });

  test("bearer token with basic credentials from docker config; wrong ones give a clear error", async () => {
    const p = startTokenProxy(reg!.host, { basic: "bob:pw" });
    proxies.push(p);
    const env = data();
    const anon = await pelagos(["image", "pull", `${p.host}/lib/hello:v1`], env);
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toContain("anonymous access refused");
    await Bun.write(`${env.DOCKER_CONFIG}/config.json`, JSON.stringify({ auths: { [p.host]: { auth: Buffer.from("bob:pw").toString("base64") } } }));
    expect((await pelagos(["image", "pull", `${p.host}/lib/hello:v1`], env)).stderr).toBe("");
    await Bun.write(`${env.DOCKER_CONFIG}/config.json`, JSON.stringify({ auths: { [p.host]: { auth: Buffer.from("bob:bad").toString("base64") } } }));
    const bad = await pelagos(["image", "pull", `${p.host}/lib/hello:v1`], env);
    expect(bad.stderr).toContain("credentials rejected");
  });

  test.each([429, 503])("retries after %i", async (status) => {
    const p = startTokenProxy(reg!.host, { fail: { status, times: 2 } });
    proxies.push(p);
    const r = await pelagos(["image", "pull", `${p.host}/lib/hello:v1`], data());
    expect(r.stderr).toBe("");
  });

  test("persistent 429 ends with a rate-limit error", async () => {
    const p = startTokenProxy(reg!.host, { fail: { status: 429, times: 100 } });
    proxies.push(p);
    const r = await pelagos(["image", "pull", `${p.host}/lib/hello:v1`], data());
    expect(r.stderr).toContain("too many requests (429)");
  });

  test("mirrors from registries.toml are tried first; the image keeps its canonical name", async () => {
    const env = data();
    const conf = `${env.PELAGOS_DATA_DIR}-registries.toml`;
    cleanup.push(conf);
    writeFileSync(conf, `# test\n[mirrors]\n"registry.invalid" = ["http://127.0.0.1:1", "http://${reg!.host}"]\n`);
    const r = await pelagos(["image", "pull", `registry.invalid/lib/hello:v1`], { ...env, PELAGOS_REGISTRIES: conf });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("registry.invalid/lib/hello:v1");
    const ls = JSON.parse((await pelagos(["image", "ls", "--json"], env)).stdout);
    expect(ls[0].Reference).toBe("registry.invalid/lib/hello:v1");
    expect(ls[0].Digest).toBe(digest);
  });

  test("nested indexes are followed", async () => {
    const env = data();
    const r = await pelagos(["image", "pull", `${reg!.host}/lib/nested:1`], env);
    expect(r.stderr).toBe("");
    const info = JSON.parse((await pelagos(["image", "inspect", `${reg!.host}/lib/nested:1`], env)).stdout)[0];
    expect(info.Digest).toBe(digest);
    expect(info.Architecture).toBe(hostArch());
    expect(readFileSync(`${info.Layers[0].Path}/hello`, "utf8")).toBe("bearer");
  });

  test("pull by digest", async () => {
    const env = data();
    const r = await pelagos(["image", "pull", `${reg!.host}/lib/hello@${digest}`], env);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`${reg!.host}/lib/hello@${digest}`);
  });
});
