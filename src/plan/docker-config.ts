/**
 * `pelagos run` options → an OCI config with docker's defaults: the single
 * internal description of a container, so `run` and OCI bundles share every
 * later step. Pure.
 */
import type { OciCapabilities, OciConfig, OciMount, OciNamespace } from "../oci/runtime/config.ts";
import type { LinuxResources } from "../cgroups/resources.ts";

export const DOCKER_CAPS: NonNullable<OciCapabilities["bounding"]> = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

export const DOCKER_MASKED = [
  "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
export const DOCKER_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

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
  return {
    ociVersion: "1.2.0",
    process: {
      terminal: s.terminal,
      user: { uid: s.user.uid, gid: s.user.gid, additionalGids: s.user.additionalGids },
      args: s.args,
      env: s.env,
      cwd: s.cwd,
      capabilities: { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS, inheritable: [], ambient: [] },
      noNewPrivileges: false,
    },
    root: { path: s.rootfs, readonly: s.readOnly },
    hostname: s.hostname,
    mounts: [...DOCKER_MOUNTS, ...user],
    annotations: Object.fromEntries(Object.entries(s.labels).map(([k, v]) => [`label.${k}`, v])),
    linux: {
      namespaces, maskedPaths: DOCKER_MASKED, readonlyPaths: DOCKER_READONLY,
      resources: { ...s.resources, devices: DENY_ALL_DEVICES } as NonNullable<OciConfig["linux"]>["resources"],
      ...(s.cgroupsPath ? { cgroupsPath: s.cgroupsPath } : {}),
    },
  };
}

function depth(p: string): number {
  return p.split("/").filter(Boolean).length;
}
