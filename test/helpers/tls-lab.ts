/**
 * Registries on a NON-loopback address, for TLS tests, without touching the
 * host network: a named network namespace owned by the test, `lo` up with
 * extra 10.213.0.x addresses, Debian's `docker-registry` started inside it
 * (`nsenter --net`), certificates made with `openssl`. Everything the test
 * runs against it (skopeo, dist/pelagos) is started inside the namespace too.
 *
 *   const lab = await startTlsLab(["10.213.0.2", "10.213.0.3"]);
 *   try { const reg = await lab.registry({ addr: "0.0.0.0:443", tls: true }); ... }
 *   finally { await lab.stop(); }   // registries killed by PID, netns deleted, temp dir removed
 *
 * The netns name carries the run token, so a leaked one is attributed by the
 * leak check; processes inherit PELAGOS_TEST_RUN.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { BIN, type Result } from "./image-cli.ts";
import { push } from "./registry.ts";
import { makeTempDir, removeTempDir, runToken } from "./tmp.ts";

/** null when the lab can run here, else why not. */
export function tlsLabReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root (ip netns)";
  const packages: Record<string, string> = { ip: "iproute2", openssl: "openssl", nsenter: "util-linux", "docker-registry": "docker-registry", skopeo: "skopeo" };
  const missing = Object.keys(packages).filter((t) => Bun.which(t) === null);
  if (missing.length > 0) return `needs ${missing.join(", ")} (apt-get install ${missing.map((t) => packages[t]).join(" ")})`;
  if (!existsSync(BIN)) return `needs the runtime binary "${BIN}" (run: bun run build.ts)`;
  return null;
}

export type Certs = { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };

/** `requests()`: "METHOD path" of every request in the registry's access log so far. */
export type LabRegistry = { requests: () => string[] };

export type TlsLab = {
  certs: Certs;
  /** Every registry of the lab shares one storage: push once, pull from any. */
  registry(opts: { addr: string; tls?: boolean; clientCa?: boolean }): Promise<LabRegistry>;
  pelagos(args: string[], env?: Record<string, string>): Promise<Result>;
  /** skopeo copy of an OCI layout into a lab registry (TLS not verified, as the loopback tests do). */
  push(layout: string, tag: string, dest: string): Promise<void>;
  stop(): Promise<void>;
};

function run(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
}

/** A CA, a server certificate for `ips` (subjectAltName), and a client certificate, all signed by the CA. */
function makeCerts(dir: string, ips: string[]): Certs {
  const key = (out: string) => run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out]);
  const sign = (name: string, cn: string, ext: string) => {
    key(`${dir}/${name}.key`);
    run(["openssl", "req", "-new", "-key", `${dir}/${name}.key`, "-subj", `/CN=${cn}`, "-out", `${dir}/${name}.csr`]);
    writeFileSync(`${dir}/${name}.ext`, ext);
    run(["openssl", "x509", "-req", "-in", `${dir}/${name}.csr`, "-CA", `${dir}/ca.crt`, "-CAkey", `${dir}/ca.key`, "-CAcreateserial", "-days", "2", "-extfile", `${dir}/${name}.ext`, "-out", `${dir}/${name}.crt`]);
  };
  key(`${dir}/ca.key`);
  run(["openssl", "req", "-x509", "-new", "-key", `${dir}/ca.key`, "-subj", "/CN=pelagos test CA", "-days", "2", "-out", `${dir}/ca.crt`]);
  sign("server", ips[0]!, `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(",")}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  sign("client", "pelagos test client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  return { ca: `${dir}/ca.crt`, serverCert: `${dir}/server.crt`, serverKey: `${dir}/server.key`, clientCert: `${dir}/client.crt`, clientKey: `${dir}/client.key` };
}

/**
 * True once the process (inside its netns) listens on `port`: its /proc/PID/net/tcp{,6} is the
 * namespace's table (Go listens on "0.0.0.0:P" with a dual-stack IPv6 socket).
 */
function listening(pid: number, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return ["tcp", "tcp6"].some((t) => {
    try {
      return readFileSync(`/proc/${pid}/net/${t}`, "utf8")
        .split("\n")
        .some((l) => {
          const f = l.trim().split(/\s+/);
          return f[1]?.endsWith(`:${hex}`) && f[3] === "0A";
        });
    } catch {
      return false;
    }
  });
}

const inNetns = (netns: string, argv: string[]) => ["nsenter", `--net=/run/netns/${netns}`, "--", ...argv];

function registryConfig(storage: string, addr: string, tls?: { certs: Certs; clientCa?: boolean }): string {
  const clientCas = tls?.clientCa ? `    clientcas:\n      - ${tls.certs.ca}\n` : "";
  const tlsCfg = tls ? `  tls:\n    certificate: ${tls.certs.serverCert}\n    key: ${tls.certs.serverKey}\n${clientCas}` : "";
  return `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\nhttp:\n  addr: ${addr}\n${tlsCfg}`;
}

/** Starts docker-registry inside `netns` (nsenter execs it: the PID is the registry's) and waits until it listens. */
async function startRegistryIn(netns: string, base: string, cfg: string, addr: string, procs: Subprocess[]): Promise<LabRegistry> {
  writeFileSync(`${base}.yml`, cfg);
  const p = Bun.spawn(inNetns(netns, ["docker-registry", "serve", `${base}.yml`]), { stdout: Bun.file(`${base}.out`), stderr: Bun.file(`${base}.err`) });
  procs.push(p);
  const port = Number(addr.split(":").pop());
  for (let i = 0; i < 400 && !listening(p.pid, port); i++) {
    if (p.exitCode !== null) throw new Error(`docker-registry exited (${p.exitCode}): ${readFileSync(`${base}.err`, "utf8")}`);
    await Bun.sleep(10);
  }
  if (!listening(p.pid, port)) throw new Error(`docker-registry did not listen on ${addr}`);
  const requests = () => [...readFileSync(`${base}.out`, "utf8").matchAll(/"([A-Z]+ \S+) HTTP\/[0-9.]+"/g)].map((m) => m[1]!);
  return { requests };
}

async function spawnIn(netns: string, argv: string[], env: Record<string, string> = {}): Promise<Result> {
  const p = Bun.spawn(inNetns(netns, argv), { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** `serverIps` get the server certificate; `extraIps` are addresses on `lo` the certificate does not name. */
export async function startTlsLab(serverIps: string[], extraIps: string[] = []): Promise<TlsLab> {
  const netns = `pelagos-tls-${runToken()}-${Math.floor(Math.random() * 1e9)}`;
  const dir = makeTempDir("tls-lab");
  const procs: Subprocess[] = [];
  let made = false;
  const stop = async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    if (made) Bun.spawnSync(["ip", "netns", "del", netns], { stdout: "ignore", stderr: "ignore" });
    removeTempDir(dir);
  };
  try {
    run(["ip", "netns", "add", netns]);
    made = true;
    run(["ip", "-n", netns, "link", "set", "lo", "up"]);
    for (const ip of [...serverIps, ...extraIps]) run(["ip", "-n", netns, "addr", "add", `${ip}/32`, "dev", "lo"]);
    const certs = makeCerts(dir, serverIps);
    const storage = `${dir}/storage`;
    let n = 0;
    const registry = (o: { addr: string; tls?: boolean; clientCa?: boolean }) =>
      startRegistryIn(netns, `${dir}/registry-${++n}`, registryConfig(storage, o.addr, o.tls ? { certs, clientCa: o.clientCa } : undefined), o.addr, procs);
    return {
      certs,
      registry,
      pelagos: (args, env) => spawnIn(netns, [BIN, ...args], env),
      push: (layout, tag, dest) => push(layout, tag, dest, { wrap: (argv) => inNetns(netns, argv) }),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
