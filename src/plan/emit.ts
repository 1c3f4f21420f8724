/**
 * Low-level plan emitters shared by the plan modules: safe path resolution
 * inside the container root (openat2 RESOLVE_IN_ROOT: a symlink planted in the
 * rootfs cannot send a mount or a mkdir outside it), mkdir -p, and the new
 * mount API (open_tree/fsopen/fsmount/move_mount/mount_setattr), which needs
 * no /proc path and has no option-length limit.
 */
import * as K from "../../ffi/consts.ts";
import type { SyscallTable } from "../../ffi/syscalls.ts";
import { PlanBuilder, type Arg } from "../spawn/plan-encode.ts";

export type Slot = { slot: number };

export class Emitter {
  constructor(
    readonly b: PlanBuilder,
    readonly nr: SyscallTable,
  ) {}

  sys(name: keyof SyscallTable, args: Arg[], o: { slot?: Slot; okErrno?: number | "any" } = {}) {
    return this.b.sys(this.nr[name], args, o);
  }

  close(s: Slot): void {
    this.sys("close", [s], { okErrno: "any" });
  }

  /** openat2(dirfd, path, how): the result goes to a new slot. */
  openat2(dir: Slot | number, path: string, flags: number, resolve: number, o: { okErrno?: number | "any"; mode?: number } = {}): Slot {
    const s = this.b.slot();
    const how = this.b.words([flags | K.O_CLOEXEC, o.mode ?? 0, resolve]);
    this.sys("openat2", [dir, this.b.str(path), how, 24], { slot: s, okErrno: o.okErrno });
    return s;
  }

  /** mkdir -p of `rel` (relative to the container root `root`), each component resolved inside the root. */
  mkdirAll(root: Slot, rel: string, mode = 0o755): void {
    const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
    let parent: Slot = root;
    const opened: Slot[] = [];
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      if (name === "..") throw new Error(`Path "${rel}" must not contain ".."`);
      this.sys("mkdirat", [parent, this.b.str(name), mode], { okErrno: 17 /* EEXIST */ });
      if (i === parts.length - 1) break;
      const next = this.openat2(root, parts.slice(0, i + 1).join("/"), K.O_PATH | K.O_DIRECTORY, K.RESOLVE_IN_ROOT);
      opened.push(next);
      parent = next;
    }
    for (const s of opened) this.close(s);
  }

  /** Creates an empty file (a bind target) inside the root, parents included. */
  touch(root: Slot, rel: string): void {
    const dir = rel.split("/").slice(0, -1).join("/");
    if (dir) this.mkdirAll(root, dir);
    this.close(this.openat2(root, rel, K.O_CREAT | K.O_RDONLY | K.O_NOCTTY, K.RESOLVE_IN_ROOT, { mode: 0o644 }));
  }

  mountAttr(set: number, clr: number, propagation: number) {
    return this.b.words([set, clr, propagation, 0]);
  }

  /** Clones `source` (a host path, or a slot) as a detached mount tree. */
  openTree(source: string | Slot, recursive: boolean): Slot {
    const s = this.b.slot();
    const flags = K.OPEN_TREE_CLONE | K.O_CLOEXEC | (recursive ? K.AT_RECURSIVE : 0);
    if (typeof source === "string") this.sys("open_tree", [K.AT_FDCWD, this.b.str(source), flags], { slot: s });
    else this.sys("open_tree", [source, this.b.str(""), flags | K.AT_EMPTY_PATH], { slot: s });
    return s;
  }

  setAttr(tree: Slot, recursive: boolean, set: number, clr = 0, propagation = 0): void {
    this.sys("mount_setattr", [
      tree, this.b.str(""), K.AT_EMPTY_PATH | (recursive ? K.AT_RECURSIVE : 0), this.mountAttr(set, clr, propagation), 32,
    ]);
  }

  moveMount(from: Slot, to: Slot): void {
    this.sys("move_mount", [from, this.b.str(""), to, this.b.str(""), K.MOVE_MOUNT_F_EMPTY_PATH | K.MOVE_MOUNT_T_EMPTY_PATH]);
  }

  /** A new filesystem instance (fsopen/fsconfig/fsmount) as a detached mount. */
  newFs(type: string, source: string | undefined, data: [string, string | null][], attrs: number): Slot {
    const fsfd = this.b.slot();
    this.sys("fsopen", [this.b.str(type), K.FSOPEN_CLOEXEC], { slot: fsfd });
    if (source) this.sys("fsconfig", [fsfd, K.FSCONFIG_SET_STRING, this.b.str("source"), this.b.str(source), 0]);
    for (const [k, v] of data) {
      if (v === null) this.sys("fsconfig", [fsfd, K.FSCONFIG_SET_FLAG, this.b.str(k), 0, 0]);
      else this.sys("fsconfig", [fsfd, K.FSCONFIG_SET_STRING, this.b.str(k), this.b.str(v), 0]);
    }
    this.sys("fsconfig", [fsfd, K.FSCONFIG_CMD_CREATE, 0, 0, 0]);
    const m = this.b.slot();
    this.sys("fsmount", [fsfd, K.FSMOUNT_CLOEXEC, attrs], { slot: m });
    this.close(fsfd);
    return m;
  }

  /** Writes `data` to a file (by absolute path in the current root): sysctls, oom_score_adj. */
  writeFile(path: string, data: string): void {
    const s = this.b.slot();
    this.sys("openat", [K.AT_FDCWD, this.b.str(path), K.O_WRONLY | K.O_CLOEXEC, 0], { slot: s });
    const bytes = Buffer.from(data);
    this.sys("write", [s, this.b.bytes(bytes), bytes.length]);
    this.close(s);
  }
}

/** makedev() as glibc encodes it. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return (mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n);
}
