/**
 * Docker-compatible per-registry TLS material. `<certs dir>/<host[:port]>/`
 * holds `*.crt` CA certificates (trusted in addition to the bundled roots,
 * for that registry only) and `*.cert` + `*.key` client certificate pairs
 * (same base name). The dir is /etc/docker/certs.d, or $PELAGOS_CERTS_DIR.
 * A registry without a dir gets the default TLS settings.
 */
import { readdirSync, readFileSync } from "node:fs";
import { ImageError } from "../errors.ts";

export type RegistryTls = { ca?: string[]; cert?: string[]; key?: string[] };

export function certsDir(): string {
  return process.env.PELAGOS_CERTS_DIR || "/etc/docker/certs.d";
}

export type CertsPlan = { cas: string[]; pairs: { cert: string; key: string }[] };

/**
 * Which files of a registry's certs dir are used, and how (pure). A `.cert`
 * without its `.key`, or the reverse, is an error as in docker: a CA saved
 * as `.cert` would otherwise be silently ignored.
 */
export function planCertsDir(dir: string, names: string[]): CertsPlan {
  const plan: CertsPlan = { cas: [], pairs: [] };
  const has = new Set(names);
  for (const name of [...names].sort()) {
    if (name.endsWith(".crt")) plan.cas.push(`${dir}/${name}`);
    else if (name.endsWith(".cert")) {
      const key = `${name.slice(0, -5)}.key`;
      if (!has.has(key)) throw new ImageError("E_TLS", `Cannot use client certificate "${dir}/${name}": missing key "${dir}/${key}" (CA certificates must end in .crt)`);
      plan.pairs.push({ cert: `${dir}/${name}`, key: `${dir}/${key}` });
    } else if (name.endsWith(".key") && !has.has(`${name.slice(0, -4)}.cert`)) {
      throw new ImageError("E_TLS", `Cannot use client key "${dir}/${name}": missing certificate "${dir}/${name.slice(0, -4)}.cert"`);
    }
  }
  return plan;
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ImageError("E_TLS", `Cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The TLS options for `host` (`name[:port]` as in the reference), or undefined when it has no certs dir. */
export function loadRegistryTls(host: string): RegistryTls | undefined {
  if (host === "" || host.includes("/") || host.startsWith(".")) return undefined;
  const dir = `${certsDir()}/${host}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new ImageError("E_TLS", `Cannot read "${dir}": ${code ?? (e as Error).message}`, { cause: e });
  }
  const plan = planCertsDir(dir, names);
  const tls: RegistryTls = {};
  // Passing `ca` replaces the default roots (as in node:tls), so they are passed along: docker adds to the system pool.
  // node:tls loads only here: `run IMAGE` reaches this module, and loading it costs ~6 ms.
  if (plan.cas.length > 0) tls.ca = [...(require("node:tls") as typeof import("node:tls")).rootCertificates, ...plan.cas.map(read)];
  if (plan.pairs.length > 0) {
    tls.cert = plan.pairs.map((p) => read(p.cert));
    tls.key = plan.pairs.map((p) => read(p.key));
  }
  return tls.ca || tls.cert ? tls : undefined;
}
