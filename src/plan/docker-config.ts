/**
 * `pelagos run` options → an OCI config with docker's defaults: the single
 * internal description of a container, so `run` and OCI bundles share every
 * later step. Pure.
 */
import type { OciConfig, OciMount, OciNamespace } from "../oci/runtime/config.ts";
import { applySecurity, DEFAULT_SECURITY, type SecuritySpec } from "./security-config.ts";
import type { LinuxResources } from "../cgroups/resources.ts";

export { DOCKER_MASKED, DOCKER_READONLY } from "./security-config.ts";

export const DOCKER_MOUNTS: OciMount[] = [
  { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
  { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"] },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"] },
];

export type RunSpec = {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  terminal: boolean;
  readOnly: boolean;
  network: "none" | "loopback" | "host";
  volumes: { source: string; destination: string; options: string[] }[];
  tmpfs: { destination: string; options: string[] }[];
  labels: Record<string, string>;
  /** capabilities, seccomp, paths, limits, user namespace; docker's defaults when absent */
  security?: SecuritySpec;
  /** limits from the docker flags (device rules are added here) */
  resources?: LinuxResources;
  /** absolute: from --cgroup-parent and the name */
  cgroupsPath?: string;
};

/** docker: no device but the defaults (cgroup-setup.ts appends the allow-list after this rule). */
const DENY_ALL_DEVICES = [{ allow: false, access: "rwm" }];

export function buildRunConfig(s: RunSpec): OciConfig {
  const user: OciMount[] = [
    ...s.volumes.map((v) => ({ destination: v.destination, type: "bind", source: v.source, options: ["rbind", ...v.options] })),
    ...s.tmpfs.map((t) => ({ destination: t.destination, type: "tmpfs", source: "tmpfs", options: t.options })),
  ].sort((a, b) => depth(a.destination) - depth(b.destination));
  const namespaces: OciNamespace[] = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "cgroup" }];
  if (s.network !== "host") namespaces.push({ type: "network" });
  const config: OciConfig = {
    ociVersion: "1.2.0",
    process: {
      terminal: s.terminal,
      user: { uid: s.user.uid, gid: s.user.gid, additionalGids: s.user.additionalGids },
      args: s.args,
      env: s.env,
      cwd: s.cwd,
    },
    root: { path: s.rootfs, readonly: s.readOnly },
    hostname: s.hostname,
    mounts: [...DOCKER_MOUNTS, ...user],
    annotations: Object.fromEntries(Object.entries(s.labels).map(([k, v]) => [`label.${k}`, v])),
    linux: {
      namespaces,
      resources: { ...s.resources, devices: DENY_ALL_DEVICES } as NonNullable<OciConfig["linux"]>["resources"],
      ...(s.cgroupsPath ? { cgroupsPath: s.cgroupsPath } : {}),
    },
  };
  return applySecurity(config, s.security ?? DEFAULT_SECURITY);
}

function depth(p: string): number {
  return p.split("/").filter(Boolean).length;
}
