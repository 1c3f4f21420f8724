/**
 * Mount steps of the launch plan: config mounts in order, default devices and
 * /dev symlinks, then (after pivot_root) masked and read-only paths.
 * Targets are always resolved inside the container root (RESOLVE_IN_ROOT).
 */
import { statSync } from "node:fs";
import * as K from "../../ffi/consts.ts";
import { ConfigError } from "../errors.ts";
import type { OciConfig, OciDevice } from "../oci/runtime/config.ts";
import { Emitter, makedev, type Slot } from "./emit.ts";
import type { HostFacts } from "./host.ts";
import { parseMountOptions } from "./mount-options.ts";
import { planCgroupV1Mount } from "./cgroup-mount.ts";

const KERNEL_FS = new Set(["proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "overlay", "ramfs", "hugetlbfs", "securityfs", "binfmt_misc", "debugfs", "tracefs", "fusectl", "pstore", "bpf"]);

export function planMounts(e: Emitter, root: Slot, config: OciConfig, host: HostFacts): void {
  const b = e.b;
  (config.mounts ?? []).forEach((m, i) => {
    const path = `mounts[${i}]`;
    if (!m.destination.startsWith("/")) throw new ConfigError(`${path}.destination`, `must be an absolute path, got "${m.destination}"`);
    const rel = m.destination.replace(/^\/+/, "");
    const o = parseMountOptions(m.options ?? [], `${path}.options`);
    const type = m.type ?? (o.bind ? "bind" : "");
    const bind = o.bind || type === "bind";
    b.step(`mount ${bind ? m.source : type} at ${m.destination}`);
    if (bind) {
      if (!m.source) throw new ConfigError(`${path}.source`, "a bind mount needs a source");
      let isDir = true;
      try {
        isDir = statSync(m.source).isDirectory();
      } catch (err) {
        throw new ConfigError(`${path}.source`, `cannot use "${m.source}": ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      if (rel === "") throw new ConfigError(`${path}.destination`, "cannot bind-mount over the root");
      if (isDir) e.mkdirAll(root, rel);
      else e.touch(root, rel);
      const target = e.openat2(root, rel, K.O_PATH, K.RESOLVE_IN_ROOT);
      const tree = e.openTree(m.source, o.recursive);
      if (o.set || o.clr) e.setAttr(tree, o.recursive && (o.recursiveAttrs || true), o.set, o.clr);
      e.moveMount(tree, target);
      if (o.propagation) e.setAttr(tree, o.propagationRecursive, 0, 0, o.propagation);
      e.close(tree);
      e.close(target);
      return;
    }
    if (!KERNEL_FS.has(type)) throw new ConfigError(`${path}.type`, `unsupported mount type "${type}"`);
    e.mkdirAll(root, rel);
    const target = e.openat2(root, rel, K.O_PATH | K.O_DIRECTORY, K.RESOLVE_IN_ROOT);
    const ownCgroupView = (config.linux?.namespaces ?? []).some((n) => n.type === "cgroup" && !n.path) &&
      !(config.linux?.namespaces ?? []).some((n) => n.type === "user") && (host.cgroupMounts?.length ?? 0) > 0;
    if ((type === "cgroup" || type === "cgroup2") && host.cgroups !== "v2" && ownCgroupView) {
      e.close(target);
      planCgroupV1Mount(e, root, rel, host.cgroupMounts!, (o.set & K.MOUNT_ATTR_RDONLY) !== 0);
      return;
    }
    if ((type === "cgroup" || type === "cgroup2") && host.cgroups !== "v2") {
      // cgroup v1/hybrid host: show the host hierarchy, read-only unless asked rw (--privileged) (per-controller mounts come with the cgroups work)
      const tree = e.openTree("/sys/fs/cgroup", true);
      e.setAttr(tree, true, (o.set & K.MOUNT_ATTR_RDONLY) | K.MOUNT_ATTR_NOSUID | K.MOUNT_ATTR_NODEV | K.MOUNT_ATTR_NOEXEC);
      e.moveMount(tree, target);
      e.close(tree);
    } else {
      const fsType = type === "cgroup" ? "cgroup2" : type;
      const src = m.source && m.source !== type ? m.source : undefined;
      const mnt = e.newFs(fsType, src, o.data, o.set & ~K.MOUNT_ATTR__ATIME ? o.set : o.set);
      e.moveMount(mnt, target);
      if (o.propagation) e.setAttr(mnt, o.propagationRecursive, 0, 0, o.propagation);
      e.close(mnt);
    }
    e.close(target);
  });
}

const DEFAULT_DEVICES: OciDevice[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

const DEV_LINKS: [string, string][] = [
  ["/proc/self/fd", "fd"], ["/proc/self/fd/0", "stdin"], ["/proc/self/fd/1", "stdout"],
  ["/proc/self/fd/2", "stderr"], ["pts/ptmx", "ptmx"], ["/proc/kcore", "core"],
];

export function planDevices(e: Emitter, root: Slot, config: OciConfig, o: { userns: boolean }): void {
  const b = e.b;
  const seen = new Set<string>();
  const devices = [...(config.linux?.devices ?? []), ...DEFAULT_DEVICES].filter((d) => {
    if (seen.has(d.path)) return false;
    seen.add(d.path);
    return true;
  });
  b.step("create /dev");
  e.mkdirAll(root, "dev");
  for (const d of devices) {
    if (!d.path.startsWith("/dev/")) throw new ConfigError("linux.devices", `device path must be under /dev, got "${d.path}"`);
    const rel = d.path.slice(1);
    const dir = rel.split("/").slice(0, -1).join("/");
    const name = rel.split("/").pop()!;
    b.step(`create device ${d.path}`);
    if (dir !== "dev") e.mkdirAll(root, dir);
    if (o.userns) {
      // mknod is not allowed in a user namespace: bind the host's node instead
      e.touch(root, rel);
      const target = e.openat2(root, rel, K.O_PATH, K.RESOLVE_IN_ROOT);
      const tree = e.openTree(d.path, false);
      e.moveMount(tree, target);
      e.close(tree);
      e.close(target);
      continue;
    }
    const parent = e.openat2(root, dir, K.O_PATH | K.O_DIRECTORY, K.RESOLVE_IN_ROOT);
    const kind = d.type === "b" ? K.S_IFBLK : d.type === "p" ? K.S_IFIFO : K.S_IFCHR;
    e.sys("mknodat", [parent, b.str(name), kind | (d.fileMode ?? 0o666), makedev(d.major ?? 0, d.minor ?? 0)], { okErrno: 17 });
    e.sys("fchownat", [parent, b.str(name), d.uid ?? 0, d.gid ?? 0, K.AT_SYMLINK_NOFOLLOW]);
    e.close(parent);
  }
  b.step("create /dev symlinks");
  const dev = e.openat2(root, "dev", K.O_PATH | K.O_DIRECTORY, K.RESOLVE_IN_ROOT);
  for (const [target, name] of DEV_LINKS) e.sys("symlinkat", [b.str(target), dev, b.str(name)], { okErrno: 17 });
  e.close(dev);
}

/** After pivot_root: files get /dev/null bound over them, directories a read-only tmpfs. */
export function planMasked(e: Emitter, paths: readonly string[]): void {
  const b = e.b;
  for (const p of paths) {
    b.step(`mask ${p}`);
    const any = e.openat2(K.AT_FDCWD, p, K.O_PATH | K.O_NOFOLLOW, K.RESOLVE_NO_MAGICLINKS, { okErrno: "any" });
    const end = b.label(), dir = b.label();
    b.jump(end, "slot-failed", any);
    const d = e.openat2(K.AT_FDCWD, p, K.O_PATH | K.O_NOFOLLOW | K.O_DIRECTORY, K.RESOLVE_NO_MAGICLINKS, { okErrno: "any" });
    b.jump(dir, "slot-ok", d);
    const nul = e.openTree("/dev/null", false);
    e.moveMount(nul, any);
    e.close(nul);
    b.jump(end);
    b.here(dir);
    const t = e.newFs("tmpfs", undefined, [["size", "0"]], K.MOUNT_ATTR_RDONLY);
    e.moveMount(t, d);
    e.close(t);
    b.here(end);
    e.close(any);
    e.close(d);
  }
}

export function planReadonly(e: Emitter, paths: readonly string[]): void {
  const b = e.b;
  for (const p of paths) {
    b.step(`make ${p} read-only`);
    const s = e.openat2(K.AT_FDCWD, p, K.O_PATH | K.O_NOFOLLOW, K.RESOLVE_NO_MAGICLINKS, { okErrno: "any" });
    const end = b.label();
    b.jump(end, "slot-failed", s);
    const tree = e.openTree(s, true);
    e.setAttr(tree, true, K.MOUNT_ATTR_RDONLY);
    e.moveMount(tree, s);
    e.close(tree);
    b.here(end);
    e.close(s);
  }
}
