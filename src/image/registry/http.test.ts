import { afterEach, describe, expect, test } from "bun:test";
import { classifyFetchError, tlsOptions } from "./http.ts";

const saved = process.env.PELAGOS_CERTS_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.PELAGOS_CERTS_DIR;
  else process.env.PELAGOS_CERTS_DIR = saved;
});

describe("tlsOptions()", () => {
  test("verification off only for insecure registries; certs dir material passed along", () => {
    expect(tlsOptions({})).toBeUndefined();
    expect(tlsOptions({ insecureTls: true })).toEqual({ rejectUnauthorized: false });
    expect(tlsOptions({ tls: { ca: ["A"] } })).toEqual({ ca: ["A"] });
    expect(tlsOptions({ insecureTls: true, tls: { cert: ["C"], key: ["K"] } })).toEqual({ cert: ["C"], key: ["K"], rejectUnauthorized: false });
  });
});

describe("classifyFetchError() messages", () => {
  const err = (code: string, message = "x") => Object.assign(new TypeError(message), { code });
  test("unknown authority: names the host and the certs dir to trust it", () => {
    process.env.PELAGOS_CERTS_DIR = "/c";
    const e = classifyFetchError(err("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "https://10.1.2.3:5443/v2/");
    expect(e.code).toBe("E_TLS");
    expect(e.message).toBe(
      'Cannot connect to registry "10.1.2.3:5443" over TLS: certificate signed by an unknown authority (UNABLE_TO_VERIFY_LEAF_SIGNATURE): trust its CA in "/c/10.1.2.3:5443/ca.crt" or use --insecure for a registry without valid TLS',
    );
    expect(classifyFetchError(err("DEPTH_ZERO_SELF_SIGNED_CERT"), "https://h/v2/").message).toContain("unknown authority");
    // A redirect to blob storage on another host: the registry's certs dir applies, as in docker.
    expect(classifyFetchError(err("SELF_SIGNED_CERT_IN_CHAIN"), "https://blobs.example/x", { certsHost: "r.example:5000" }).message).toStartWith(
      'Cannot connect to registry "blobs.example" over TLS: certificate signed by an unknown authority (SELF_SIGNED_CERT_IN_CHAIN): trust its CA in "/c/r.example:5000/ca.crt"',
    );
  });
  test("name mismatch, expiry", () => {
    expect(classifyFetchError(err("ERR_TLS_CERT_ALTNAME_INVALID"), "https://[::2]:443/v2/").message).toContain('certificate is not valid for "[::2]"');
    expect(classifyFetchError(err("CERT_HAS_EXPIRED"), "https://h/v2/").message).toContain("certificate has expired");
  });
  test("a failed handshake (EPROTO) is E_TLS, explained by what the port answers to plain HTTP", () => {
    process.env.PELAGOS_CERTS_DIR = "/c";
    const eproto = err("EPROTO", "EPROTO: The TLS handshake failed. Does the server speak TLS on this port?");
    const plain = classifyFetchError(eproto, "https://10.1.2.3:5000/v2/", { speaksHttp: true });
    expect(plain.code).toBe("E_TLS");
    expect(plain.message).toBe('Cannot connect to registry "10.1.2.3:5000" over TLS: the registry speaks plain HTTP (EPROTO): use --insecure to allow plain HTTP');
    expect(classifyFetchError(eproto, "https://h:5443/v2/").message).toBe(
      'Cannot connect to registry "h:5443" over TLS: handshake failed (EPROTO): if the registry requires a client certificate, put it and its key in "/c/h:5443/client.cert" and "client.key"',
    );
    expect(classifyFetchError(eproto, "https://h:5443/v2/", { clientCert: true }).message).toContain('may have refused the client certificate in "/c/h:5443"');
  });
});
