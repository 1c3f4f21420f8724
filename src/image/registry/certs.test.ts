import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { rootCertificates } from "node:tls";
import { certsDir, loadRegistryTls, planCertsDir } from "./certs.ts";

const saved = process.env.PELAGOS_CERTS_DIR;
const dirs: string[] = [];
afterEach(() => {
  if (saved === undefined) delete process.env.PELAGOS_CERTS_DIR;
  else process.env.PELAGOS_CERTS_DIR = saved;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function certsRoot(files: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(`${tmpdir()}/pelagos-certs-`);
  dirs.push(root);
  for (const [host, entries] of Object.entries(files)) {
    mkdirSync(`${root}/${host}`);
    for (const [name, body] of Object.entries(entries)) writeFileSync(`${root}/${host}/${name}`, body);
  }
  process.env.PELAGOS_CERTS_DIR = root;
  return root;
}

describe("planCertsDir()", () => {
  test(".crt files are CAs, .cert/.key pairs are client certificates, the rest is ignored", () => {
    expect(planCertsDir("/d", ["b.crt", "client.key", "a.crt", "client.cert", "README"])).toEqual({
      cas: ["/d/a.crt", "/d/b.crt"],
      pairs: [{ cert: "/d/client.cert", key: "/d/client.key" }],
    });
  });
  test("a .cert without its .key (a CA saved with the wrong extension) is an error, as in docker", () => {
    expect(() => planCertsDir("/d", ["ca.cert"])).toThrow('Cannot use client certificate "/d/ca.cert": missing key "/d/ca.key"');
    expect(() => planCertsDir("/d", ["c.key"])).toThrow('missing certificate "/d/c.cert"');
  });
});

describe("loadRegistryTls()", () => {
  test("defaults to docker's /etc/docker/certs.d", () => {
    delete process.env.PELAGOS_CERTS_DIR;
    expect(certsDir()).toBe("/etc/docker/certs.d");
  });
  test("the dir named host:port; CAs come after the bundled roots", () => {
    certsRoot({ "r.example:5000": { "ca.crt": "CA-PEM", "c.cert": "CERT", "c.key": "KEY" }, "r.example": { "other.crt": "X" } });
    const tls = loadRegistryTls("r.example:5000")!;
    expect(tls.ca!.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    expect(tls.ca!.slice(rootCertificates.length)).toEqual(["CA-PEM"]);
    expect(tls.cert).toEqual(["CERT"]);
    expect(tls.key).toEqual(["KEY"]);
    expect(loadRegistryTls("r.example")!.ca!.at(-1)).toBe("X");
  });
  test("no dir, or a dir without certificates: default TLS", () => {
    certsRoot({ empty: { "notes.txt": "x" } });
    expect(loadRegistryTls("nothing:1")).toBeUndefined();
    expect(loadRegistryTls("empty")).toBeUndefined();
    expect(loadRegistryTls("../etc")).toBeUndefined();
  });
  test("errors are E_TLS and name the file", () => {
    const root = certsRoot({ h: { "ca.cert": "x" } });
    expect(() => loadRegistryTls("h")).toThrow(`"${root}/h/ca.cert"`);
  });
});
