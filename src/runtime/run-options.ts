/**
 * Validates `pelagos run` flags into a RunSpec. Every bad value is a
 * UsageError naming the flag; nothing is touched before this returns.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { readFileInRoot } from "../../ffi/sys.ts";
import { UsageError } from "../errors.ts";
import type { RunSpec } from "../plan/docker-config.ts";
import { DEFAULT_PATH } from "../plan/process.ts";
import { hostFacts } from "./host-facts.ts";
import { buildSecuritySpec, type SecurityFlags } from "./security-options.ts";
import type { DockerResourceFlags } from "../cgroups/docker-flags.ts";
import { runCgroup } from "./run-cgroup.ts";

export type RunFlags = {
  rootfs: string;
  command: string[];
  name?: string;
  hostname?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  volumes: string[];
  tmpfs: string[];
  readOnly: boolean;
  tty: boolean;
  network?: string;
  labels: string[];
  /** docker resource flags (--memory, --cpus, ...) */
  resources?: DockerResourceFlags;
  cgroupParent?: string;
} & SecurityFlags;

const ENV_KEY = /^[^=\0]+$/;

export function parseEnvEntry(entry: string, where: string, hostEnv: Record<string, string | undefined>): string | undefined {
  if (entry.includes("\0")) throw new UsageError(`Invalid ${where} "${entry}": contains a NUL byte`);
  const eq = entry.indexOf("=");
  if (eq === 0) throw new UsageError(`Invalid ${where} "${entry}": the variable name is empty`);
  if (eq > 0) return entry;
  if (!ENV_KEY.test(entry)) throw new UsageError(`Invalid ${where} "${entry}"`);
  // docker: a bare NAME copies the caller's value, and is dropped when unset
  const v = hostEnv[entry];
  return v === undefined ? undefined : `${entry}=${v}`;
}

export function readEnvFile(path: string, hostEnv: Record<string, string | undefined>): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`Cannot read --env-file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trimStart();
    if (l === "" || l.startsWith("#")) return;
    const v = parseEnvEntry(l, `line ${i + 1} of --env-file "${path}"`, hostEnv);
    if (v !== undefined) out.push(v);
  });
  return out;
}

/** Later entries win; PATH defaults like docker's. */
export function mergeEnv(entries: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of entries) m.set(e.slice(0, e.indexOf("=")), e);
  if (!m.has("PATH")) m.set("PATH", `PATH=${DEFAULT_PATH}`);
  return [...m.values()];
}

type Passwd = { name: string; uid: number; gid: number; home: string };

function parsePasswd(text: string | undefined): Passwd[] {
  return (text ?? "").split("\n").flatMap((l) => {
    const f = l.split(":");
    if (f.length < 7 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }];
  });
}

function parseGroup(text: string | undefined): { name: string; gid: number; members: string[] }[] {
  return (text ?? "").split("\n").flatMap((l) => {
    const f = l.split(":");
    if (f.length < 4 || !/^\d+$/.test(f[2]!)) return [];
    return [{ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(",").filter(Boolean) }];
  });
}

const MAX_ID = 4294967294; // 2^32-1 is the kernel's "no id" and never valid

/** Reads a file of the container's root filesystem (path relative to its root). */
export type RootReader = (rel: string) => string | undefined;

export function resolveUser(spec: string | undefined, rootfs: string, read: RootReader = (rel) => readFileInRoot(rootfs, rel)): { uid: number; gid: number; additionalGids: number[]; home: string } {
  const passwd = parsePasswd(read("etc/passwd"));
  if (!spec) {
    const root = passwd.find((p) => p.uid === 0);
    return { uid: 0, gid: 0, additionalGids: [], home: root?.home || "/root" };
  }
  const [u, g, ...rest] = spec.split(":");
  if (rest.length || !u) throw new UsageError(`Invalid --user "${spec}": expected USER[:GROUP] (name or number)`);
  let entry: Passwd | undefined;
  let uid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    if (uid > MAX_ID) throw new UsageError(`Invalid --user "${spec}": uid ${u} is out of range`);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === u);
    if (!entry) throw new UsageError(`Cannot find user "${u}" in the container's /etc/passwd`);
    uid = entry.uid;
  }
  const groups = parseGroup(read("etc/group"));
  let gid = entry?.gid ?? 0;
  if (g !== undefined) {
    if (/^\d+$/.test(g)) {
      gid = Number(g);
      if (gid > MAX_ID) throw new UsageError(`Invalid --user "${spec}": gid ${g} is out of range`);
    } else {
      const grp = groups.find((x) => x.name === g);
      if (!grp) throw new UsageError(`Cannot find group "${g}" in the container's /etc/group`);
      gid = grp.gid;
    }
  }
  const additionalGids = entry ? groups.filter((x) => x.members.includes(entry!.name) && x.gid !== gid).map((x) => x.gid) : [];
  return { uid, gid, additionalGids, home: entry?.home || "/" };
}

function absolute(p: string, flag: string, value: string): string {
  if (!p.startsWith("/")) throw new UsageError(`Invalid ${flag} "${value}": the container path must be absolute`);
  if (p.split("/").includes("..")) throw new UsageError(`Invalid ${flag} "${value}": the container path must not contain ".."`);
  return p.replace(/\/+$/, "") || "/";
}

const VOLUME_OPTS = new Set(["ro", "rw", "z", "Z", "private", "rprivate", "shared", "rshared", "slave", "rslave", "nocopy", "rro"]);

export function parseVolume(v: string): RunSpec["volumes"][number] {
  const parts = v.split(":");
  if (parts.length < 2 || parts.length > 3) throw new UsageError(`Invalid --volume "${v}": expected HOST:CONTAINER[:OPTIONS]`);
  const [src, dst, opts = ""] = parts as [string, string, string?];
  if (!src.startsWith("/")) throw new UsageError(`Invalid --volume "${v}": named volumes are not supported yet, the host path must be absolute`);
  if (!existsSync(src)) throw new UsageError(`Invalid --volume "${v}": host path "${src}" does not exist`);
  const options: string[] = [];
  for (const o of opts ? opts.split(",") : []) {
    if (!VOLUME_OPTS.has(o)) throw new UsageError(`Invalid --volume "${v}": unknown option "${o}"`);
    if (o === "z" || o === "Z" || o === "nocopy") continue;
    options.push(o);
  }
  return { source: realpathSync(src), destination: absolute(dst, "--volume", v), options };
}

export function parseTmpfs(t: string): RunSpec["tmpfs"][number] {
  const i = t.indexOf(":");
  const dst = i === -1 ? t : t.slice(0, i);
  const opts = i === -1 ? [] : t.slice(i + 1).split(",").filter(Boolean);
  return { destination: absolute(dst, "--tmpfs", t), options: ["nosuid", "nodev", "noexec", ...opts] };
}

/** What an image brings: its config (docker semantics) and a reader for files in its layers. */
export type ImageDefaults = {
  config: { Env?: string[] | null; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string };
  read: RootReader;
  /** --entrypoint: replaces the image's entrypoint and drops its Cmd ("" clears it) */
  entrypoint?: string;
};

/** docker: Entrypoint + Cmd; arguments replace Cmd; --entrypoint replaces the entrypoint and drops Cmd. */
export function imageArgs(command: string[], image: ImageDefaults): string[] {
  const entry = image.entrypoint !== undefined ? (image.entrypoint === "" ? [] : [image.entrypoint]) : (image.config.Entrypoint ?? []);
  const cmd = command.length > 0 ? command : image.entrypoint !== undefined ? [] : (image.config.Cmd ?? []);
  const args = [...entry, ...cmd];
  if (args.length === 0) throw new UsageError("The image has no command to run: give one after the image name");
  return args;
}

export function buildRunSpec(f: RunFlags, name: string, hostEnv: Record<string, string | undefined>, image?: ImageDefaults): RunSpec {
  const rootfsAbs = resolve(f.rootfs);
  let rootfs: string;
  try {
    rootfs = realpathSync(rootfsAbs);
  } catch {
    throw new UsageError(`Invalid --rootfs "${f.rootfs}": no such directory`);
  }
  if (!statSync(rootfs).isDirectory()) throw new UsageError(`Invalid --rootfs "${f.rootfs}": not a directory`);
  if (rootfs === "/") throw new UsageError(`Invalid --rootfs "${f.rootfs}": the host's root cannot be a container's root`);
  const network = f.network ?? "loopback";
  if (!["none", "loopback", "host"].includes(network))
    throw new UsageError(`Invalid --network "${network}": expected none, loopback or host (bridge networking is not supported yet)`);
  const hostname = f.hostname ?? name;
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) throw new UsageError(`Invalid --hostname "${hostname}"`);
  const userSpec = f.user ?? (image?.config.User || undefined);
  const user = resolveUser(userSpec, rootfs, image?.read);
  const { security, groups } = buildSecuritySpec(f, { rootfs, user, network, host: hostFacts(), read: image?.read });
  user.additionalGids = [...new Set([...user.additionalGids, ...groups])];
  const imageEnv = image?.config.Env ?? [];
  const env: string[] = [
    ...(imageEnv.some((e) => e.startsWith("HOME=")) ? [] : [`HOME=${user.home}`]),
    ...imageEnv,
    `HOSTNAME=${hostname}`,
  ];
  if (f.tty) env.push("TERM=xterm");
  for (const file of f.envFiles) env.push(...readEnvFile(file, hostEnv));
  for (const e of f.env) {
    const v = parseEnvEntry(e, "--env", hostEnv);
    if (v !== undefined) env.push(v);
  }
  const labels: Record<string, string> = {};
  for (const l of f.labels) {
    const eq = l.indexOf("=");
    if (eq === 0) throw new UsageError(`Invalid --label "${l}"`);
    labels[eq === -1 ? l : l.slice(0, eq)] = eq === -1 ? "" : l.slice(eq + 1);
  }
  const workdir = f.workdir ?? (image?.config.WorkingDir || undefined);
  const cwd = workdir === undefined ? "/" : absolute(workdir, f.workdir === undefined ? "the image's WorkingDir" : "--workdir", workdir);
  return {
    rootfs,
    args: image ? imageArgs(f.command, image) : f.command.length ? f.command : ["/bin/sh"],
    env: mergeEnv(env),
    cwd,
    user,
    hostname,
    terminal: f.tty,
    readOnly: f.readOnly,
    network: network as RunSpec["network"],
    volumes: f.volumes.map(parseVolume),
    tmpfs: f.tmpfs.map(parseTmpfs),
    labels,
    security,
    ...runCgroup(f.resources, f.cgroupParent, name),
  };
}
