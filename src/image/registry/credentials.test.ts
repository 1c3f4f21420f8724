import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { eraseCredentials, lookupCredentials, saveCredentials } from "./credentials.ts";

const dir = mkdtempSync("/tmp/pelagos-cred-test-");
const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, PATH: process.env.PATH };
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

function config(c: unknown): void {
  process.env.DOCKER_CONFIG = dir;
  writeFileSync(`${dir}/config.json`, JSON.stringify(c));
}

describe("credentials", () => {
  test("auths: base64 auth, docker.io's legacy key, identity tokens", async () => {
    config({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from("u:p:w").toString("base64") }, "r.example": { identitytoken: "tok" } } });
    expect(await lookupCredentials("docker.io")).toEqual({ username: "u", password: "p:w" });
    expect(await lookupCredentials("r.example")).toEqual({ identityToken: "tok", username: undefined });
    expect(await lookupCredentials("other.example")).toBeUndefined();
  });

  test("credsStore helper: get, store, erase; 'not found' means anonymous", async () => {
    writeFileSync(
      `${dir}/docker-credential-fake`,
      `#!/bin/sh\nread s\ncase "$1" in get) case "$s" in known.example) echo '{"Username":"h","Secret":"s"}';; *) echo "credentials not found in native keychain"; exit 1;; esac;;\nstore) echo "$s" > ${dir}/stored;; erase) echo "$s" > ${dir}/erased;; esac\n`,
      { mode: 0o755 },
    );
    process.env.PATH = `${dir}:${saved.PATH}`;
    config({ credsStore: "fake" });
    expect(await lookupCredentials("known.example")).toEqual({ username: "h", password: "s" });
    expect(await lookupCredentials("unknown.example")).toBeUndefined();
    expect(await saveCredentials("known.example", "a", "b")).toBe("docker-credential-fake");
    expect(JSON.parse(readFileSync(`${dir}/stored`, "utf8"))).toEqual({ ServerURL: "known.example", Username: "a", Secret: "b" });
    await eraseCredentials("known.example");
    expect(readFileSync(`${dir}/erased`, "utf8").trim()).toBe("known.example");
  });

  test("login without a helper writes auths atomically with mode 0600", async () => {
    config({ auths: {}, other: "kept" });
    await saveCredentials("r.example:5000", "x", "y");
    const c = JSON.parse(readFileSync(`${dir}/config.json`, "utf8"));
    expect(c.auths["r.example:5000"].auth).toBe(Buffer.from("x:y").toString("base64"));
    expect(c.other).toBe("kept");
    expect(await eraseCredentials("r.example:5000")).toBe(true);
    expect(await eraseCredentials("r.example:5000")).toBe(false);
  });
});
