/**
 * The base OCI config for test bundles: what `runc spec` (runc 1.1.5) prints,
 * with `terminal: false`, a test hostname and `/probe status` as the process.
 * Written out here (not produced by running runc) so tests do not need runc.
 */

export type Mount = { destination: string; type?: string; source?: string; options?: string[] };
export type Namespace = { type: string; path?: string };
export type Hook = { path: string; args?: string[]; env?: string[]; timeout?: number };
export type Hooks = Partial<
  Record<"prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop", Hook[]>
>;
export type Rlimit = { type: string; hard: number; soft: number };
export type Capabilities = Partial<Record<"bounding" | "effective" | "permitted" | "inheritable" | "ambient", string[]>>;

export type Process = {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  [k: string]: unknown;
};

export type Linux = {
  namespaces?: Namespace[];
  resources?: Record<string, unknown>;
  cgroupsPath?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  uidMappings?: { containerID: number; hostID: number; size: number }[];
  gidMappings?: { containerID: number; hostID: number; size: number }[];
  seccomp?: Record<string, unknown>;
  sysctl?: Record<string, string>;
  [k: string]: unknown;
};

export type OciConfig = {
  ociVersion: string;
  process: Process;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux: Linux;
  [k: string]: unknown;
};

export const DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function defaultMounts(): Mount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  ];
}

export function defaultNamespaces(): Namespace[] {
  return ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));
}

/** A fresh copy of the base config (callers mutate it freely). */
export function baseSpec(): OciConfig {
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ["/probe", "status"],
      env: [DEFAULT_PATH, "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "pelagos-test",
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: defaultNamespaces(),
      maskedPaths: [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}
