/**
 * OCI mount options → what the new mount API needs: mount attributes to set
 * and clear, propagation, bind/recursive, and the filesystem's own data
 * options (fsconfig keys). Pure.
 */
import * as K from "../../ffi/consts.ts";
import { ConfigError } from "../errors.ts";

export type MountOptions = {
  bind: boolean;
  recursive: boolean;
  /** mount attributes (MOUNT_ATTR_*) set and cleared on the new mount */
  set: number;
  clr: number;
  /** recursive attribute flags (rro, rnosuid...) */
  recursiveAttrs: boolean;
  propagation: number;
  propagationRecursive: boolean;
  /** fsconfig options for a new filesystem: [key, value] or [flag, null] */
  data: [string, string | null][];
};

const ATTRS: Record<string, [set: number, clr: number]> = {
  ro: [K.MOUNT_ATTR_RDONLY, 0],
  rw: [0, K.MOUNT_ATTR_RDONLY],
  nosuid: [K.MOUNT_ATTR_NOSUID, 0],
  suid: [0, K.MOUNT_ATTR_NOSUID],
  nodev: [K.MOUNT_ATTR_NODEV, 0],
  dev: [0, K.MOUNT_ATTR_NODEV],
  noexec: [K.MOUNT_ATTR_NOEXEC, 0],
  exec: [0, K.MOUNT_ATTR_NOEXEC],
  noatime: [K.MOUNT_ATTR_NOATIME, K.MOUNT_ATTR__ATIME],
  relatime: [K.MOUNT_ATTR_RELATIME, K.MOUNT_ATTR__ATIME],
  strictatime: [K.MOUNT_ATTR_STRICTATIME, K.MOUNT_ATTR__ATIME],
  nodiratime: [K.MOUNT_ATTR_NODIRATIME, 0],
  diratime: [0, K.MOUNT_ATTR_NODIRATIME],
  nosymfollow: [K.MOUNT_ATTR_NOSYMFOLLOW, 0],
  symfollow: [0, K.MOUNT_ATTR_NOSYMFOLLOW],
};

const PROPAGATION: Record<string, number> = {
  private: K.MS_PRIVATE,
  shared: K.MS_SHARED,
  slave: K.MS_SLAVE,
  unbindable: K.MS_UNBINDABLE,
};

/** Superblock flags the kernel accepts as fsconfig flags. */
const SB_FLAGS = new Set(["sync", "async", "dirsync", "mand", "nomand", "lazytime", "nolazytime", "silent", "loud", "iversion", "noiversion"]);
/** Accepted and meaningless here (fstab words, runc extensions we do not need). */
const IGNORED = new Set(["defaults", "norelatime", "nostrictatime", "remount", "tmpcopyup", "auto", "noauto", "x-mount.mkdir"]);

export function parseMountOptions(options: readonly string[], path: string): MountOptions {
  const o: MountOptions = {
    bind: false, recursive: false, set: 0, clr: 0, recursiveAttrs: false,
    propagation: 0, propagationRecursive: false, data: [],
  };
  options.forEach((opt, i) => {
    if (opt === "bind" || opt === "rbind") {
      o.bind = true;
      o.recursive ||= opt === "rbind";
      return;
    }
    const attr = ATTRS[opt];
    if (attr) {
      o.set = (o.set & ~attr[1]) | attr[0];
      o.clr = (o.clr | attr[1]) & ~attr[0];
      return;
    }
    if (opt.startsWith("r") && ATTRS[opt.slice(1)] && ["rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "rrelatime", "rstrictatime", "rnodiratime", "rdiratime", "rnosymfollow", "rsymfollow"].includes(opt)) {
      const a = ATTRS[opt.slice(1)]!;
      o.set = (o.set & ~a[1]) | a[0];
      o.clr = (o.clr | a[1]) & ~a[0];
      o.recursiveAttrs = true;
      return;
    }
    const prop = PROPAGATION[opt] ?? (opt.startsWith("r") ? PROPAGATION[opt.slice(1)] : undefined);
    if (prop !== undefined) {
      if (o.propagation !== 0 && o.propagation !== prop)
        throw new ConfigError(`${path}[${i}]`, `conflicting propagation options, "${opt}" after another`);
      o.propagation = prop;
      o.propagationRecursive = !PROPAGATION[opt];
      return;
    }
    if (IGNORED.has(opt)) return;
    if (opt.includes("\0") || opt === "") throw new ConfigError(`${path}[${i}]`, `invalid mount option ${JSON.stringify(opt)}`);
    if (SB_FLAGS.has(opt)) {
      o.data.push([opt, null]);
      return;
    }
    const eq = opt.indexOf("=");
    if (eq === -1) o.data.push([opt, null]);
    else o.data.push([opt.slice(0, eq), opt.slice(eq + 1)]);
  });
  return o;
}
