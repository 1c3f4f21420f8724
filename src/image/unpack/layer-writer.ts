/**
 * Writes tar entries into one layer directory, in overlayfs format:
 * `.wh.NAME` becomes a 0/0 character device NAME, `.wh..wh..opq` becomes
 * `trusted.overlay.opaque=y` on its directory.
 *
 * Confinement: every parent directory is opened with
 * openat2(RESOLVE_IN_ROOT) against the layer root, so `..`, absolute symlinks
 * and symlink chains resolve inside the layer; the last component is always
 * handled with *at calls that do not follow it (O_NOFOLLOW,
 * AT_SYMLINK_NOFOLLOW, mknodat, symlinkat, linkat without AT_SYMLINK_FOLLOW).
 * Names that climb above the root after cleaning are refused, as docker does.
 *
 * Metadata order per entry: create, write, chown, chmod (chown clears the
 * setuid bits, so chmod comes after), xattrs, times. Directory times are set
 * at the very end, because creating children changes them.
 */
import { readlinkSync, rmSync } from "node:fs";
import { SysError } from "../../../ffi/errno.ts";
import * as fs from "../../../ffi/fs.ts";
import { DIRECT_MIN, DirectWriter, openMaybeDirect } from "../store/direct-writer.ts";
import type { TarEntry } from "./tar-reader.ts";

export class UnpackError extends Error {
  override name = "UnpackError";
}

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";
const enc = new TextEncoder();

const RESOLVE = fs.RESOLVE_IN_ROOT | fs.RESOLVE_NO_MAGICLINKS;

/** Cleans a path the way RESOLVE_IN_ROOT does: `..` at the root stays at the root. */
function cleanClamped(p: string): string[] {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out;
}

/** Cleans an archive path into components; throws when it climbs out of the root. */
export function cleanPath(name: string): string[] {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) throw new UnpackError(`Entry "${name}" points outside the layer`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

export class LayerWriter {
  readonly rootFd: number;
  #dirTimes: { parts: string[]; atime: bigint; mtime: bigint }[] = [];
  readonly #out = new DirectWriter();
  /** The parent directory of the last entry, kept open: archives list a directory's entries together. */
  #parent: { key: string; fd: number } | undefined;
  #parentStale = false;
  entries = 0;

  constructor(readonly root: string) {
    this.rootFd = fs.openat(fs.AT_FDCWD, root, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW);
  }

  close(): void {
    this.#closeParent();
    fs.close(this.rootFd);
  }

  /**
   * The open parent directory for `parts`. The cached fd is dropped whenever
   * an entry removes anything (#clear): a removed name may have been a
   * directory or a symlink on the cached path, and the path must then be
   * resolved again. Creating names never changes what an existing path
   * resolves to.
   */
  #parentFd(parts: string[]): number {
    const key = parts.join("/");
    if (this.#parent && !this.#parentStale && this.#parent.key === key) return this.#parent.fd;
    this.#closeParent();
    const fd = this.#openDir(parts);
    this.#parent = { key, fd };
    this.#parentStale = false;
    return fd;
  }

  /** The entry being written still uses the fd: it is closed when the next entry needs its parent. */
  #forgetParent(): void {
    this.#parentStale = true;
  }

  #closeParent(): void {
    if (this.#parent) fs.close(this.#parent.fd);
    this.#parent = undefined;
  }

  /** Opens (creating 0755 directories as needed, like docker's MkdirAll) the directory `parts`. */
  #openDir(parts: string[], depth = 0): number {
    const flags = fs.O_RDONLY | fs.O_DIRECTORY;
    if (parts.length === 0) return fs.openat(this.rootFd, ".", flags);
    try {
      return fs.openat2(this.rootFd, parts.join("/"), flags, 0, RESOLVE);
    } catch (e) {
      if (!(e instanceof SysError) || e.code !== "ENOENT") throw e;
    }
    if (depth > 40) throw new UnpackError(`Cannot create "${parts.join("/")}": too many levels of symbolic links`);
    const parent = this.#openDir(parts.slice(0, -1), depth + 1);
    try {
      const name = parts[parts.length - 1]!;
      if (!fs.tryMkdirat(parent, name, 0o755)) {
        // A dangling symlink: create its target inside the root, as MkdirAll under chroot would.
        const link = readlinkSync(`/proc/self/fd/${parent}/${name}`);
        const here = this.#relative(parent);
        const target = cleanClamped(link.startsWith("/") ? link : `${here}/${link}`);
        fs.close(this.#openDir(target, depth + 1));
      }
    } finally {
      fs.close(parent);
    }
    return fs.openat2(this.rootFd, parts.join("/"), flags, 0, RESOLVE);
  }

  /** Path of an open directory relative to the layer root. */
  #relative(fd: number): string {
    const real = readlinkSync(`/proc/self/fd/${fd}`);
    const rootReal = readlinkSync(`/proc/self/fd/${this.rootFd}`);
    if (real === rootReal) return "";
    if (!real.startsWith(`${rootReal}/`)) throw new UnpackError(`Directory "${real}" is outside the layer`);
    return real.slice(rootReal.length + 1);
  }

  /** Removes whatever is at `name` unless it is a directory and `keepDir`; returns true if a directory was kept. */
  #clear(dirfd: number, name: string, keepDir: boolean): boolean {
    const r = fs.unlinkatRaw(dirfd, name);
    if (r === -fs.ENOENT) return false;
    if (r === 0) {
      this.#forgetParent();
      return false;
    }
    if (r === -fs.EISDIR) {
      if (keepDir) return true;
      this.#forgetParent();
      rmSync(`/proc/self/fd/${dirfd}/${name}`, { recursive: true, force: true });
      return false;
    }
    throw new SysError("unlinkat", -r, name);
  }

  /**
   * Creates `name` with `make`; when the name is taken, clears it (keeping a
   * directory if `keepDir`) and makes it again. Most names are new, so this
   * saves the unlink that clearing first would cost. Returns true if an
   * existing directory was kept (and `make` not run again).
   */
  #make(dirfd: number, name: string, keepDir: boolean, make: () => void): boolean {
    try {
      make();
      return false;
    } catch (e) {
      if (!(e instanceof SysError) || e.code !== "EEXIST") throw e;
    }
    if (this.#clear(dirfd, name, keepDir)) return true;
    make();
    return false;
  }

  async write(e: TarEntry, body: AsyncIterable<Uint8Array>): Promise<void> {
    const parts = cleanPath(e.name);
    this.entries++;
    if (parts.length === 0) {
      if (e.type !== "dir") throw new UnpackError(`Entry "${e.name}" replaces the layer root with a ${e.type}`);
      this.#meta(this.rootFd, e);
      this.#dirTimes.push({ parts, atime: e.atimeNs ?? e.mtimeNs, mtime: e.mtimeNs });
      return;
    }
    const base = parts[parts.length - 1]!;
    const dirfd = this.#parentFd(parts.slice(0, -1));
    if (base.startsWith(WH)) return this.#whiteout(dirfd, base, e);
    await this.#create(dirfd, base, parts, e, body);
  }

  #whiteout(dirfd: number, base: string, e: TarEntry): void {
    if (base === OPAQUE) {
      fs.fsetxattr(dirfd, "trusted.overlay.opaque", enc.encode("y"));
      return;
    }
    if (base.startsWith(`${WH}${WH}`)) return; // other AUFS metadata (.wh..wh.plnk, …)
    const name = base.slice(WH.length);
    if (name === "" || name === "." || name === "..") throw new UnpackError(`Invalid whiteout "${e.name}"`);
    this.#make(dirfd, name, false, () => fs.mknodat(dirfd, name, fs.S_IFCHR, 0, 0));
  }

  async #create(dirfd: number, base: string, parts: string[], e: TarEntry, body: AsyncIterable<Uint8Array>): Promise<void> {
    switch (e.type) {
      case "file": {
        const flags = fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW;
        const open = (f: number) => fs.openat(dirfd, base, f, 0o600);
        let fd = -1;
        let direct = false;
        this.#make(dirfd, base, false, () => {
          [fd, direct] = e.size >= DIRECT_MIN ? openMaybeDirect(open, flags, () => fs.unlinkatRaw(dirfd, base)) : [open(flags), false];
        });
        try {
          this.#out.begin(fd, direct);
          for await (const chunk of body) {
            const w = this.#out.write(chunk);
            if (w) await w;
          }
          await this.#out.end();
          this.#meta(fd, e);
        } finally {
          await this.#out.settle(); // no write may be in flight when the fd number is freed
          fs.close(fd);
        }
        break;
      }
      case "dir": {
        this.#make(dirfd, base, true, () => fs.mkdirat(dirfd, base, 0o700));
        const fd = fs.openat(dirfd, base, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW);
        try {
          this.#meta(fd, e);
        } finally {
          fs.close(fd);
        }
        this.#dirTimes.push({ parts, atime: e.atimeNs ?? e.mtimeNs, mtime: e.mtimeNs });
        return;
      }
      case "symlink":
        this.#make(dirfd, base, false, () => fs.symlinkat(e.linkname, dirfd, base));
        fs.fchownat(dirfd, base, e.uid, e.gid, fs.AT_SYMLINK_NOFOLLOW);
        for (const [k, v] of xattrsToSet(e)) trySet(() => fs.lsetxattr(`/proc/self/fd/${dirfd}/${base}`, k, v));
        break;
      case "hardlink":
        this.#make(dirfd, base, false, () => this.#link(dirfd, base, e));
        return; // shares the target's inode and metadata
      case "char":
      case "block":
      case "fifo": {
        const t = e.type === "char" ? fs.S_IFCHR : e.type === "block" ? fs.S_IFBLK : fs.S_IFIFO;
        this.#make(dirfd, base, false, () => fs.mknodat(dirfd, base, t | (e.mode & 0o777), e.devmajor, e.devminor));
        fs.fchownat(dirfd, base, e.uid, e.gid, fs.AT_SYMLINK_NOFOLLOW);
        fs.fchmodat(dirfd, base, e.mode & 0o7777);
        for (const [k, v] of xattrsToSet(e)) trySet(() => fs.lsetxattr(`/proc/self/fd/${dirfd}/${base}`, k, v));
        break;
      }
    }
    const mtime = e.mtimeNs;
    const atime = e.atimeNs !== undefined && e.atimeNs > mtime ? e.atimeNs : mtime;
    fs.utimensat(dirfd, base, atime, mtime, fs.AT_SYMLINK_NOFOLLOW);
  }

  #link(dirfd: number, base: string, e: TarEntry): void {
    const target = cleanPath(e.linkname);
    if (target.length === 0) throw new UnpackError(`Hard link "${e.name}" points at the layer root`);
    const tdir = this.#openDir(target.slice(0, -1));
    try {
      fs.linkat(tdir, target[target.length - 1]!, dirfd, base, 0);
    } catch (err) {
      if (err instanceof SysError && err.code === "ENOENT")
        throw new UnpackError(`Hard link "${e.name}" points at "${e.linkname}", which is not in this layer`);
      throw err;
    } finally {
      fs.close(tdir);
    }
  }

  /** chown, then chmod (chown drops setuid/setgid), then xattrs, on an open fd. */
  #meta(fd: number, e: TarEntry): void {
    fs.fchown(fd, e.uid, e.gid);
    fs.fchmod(fd, e.mode & 0o7777);
    for (const [k, v] of xattrsToSet(e)) trySet(() => fs.fsetxattr(fd, k, v));
  }

  /** Sets directory times deepest first, once every child exists. */
  finish(): void {
    const dirs = this.#dirTimes.sort((a, b) => b.parts.length - a.parts.length);
    for (const d of dirs) {
      if (d.parts.length === 0) {
        fs.utimensat(this.rootFd, "", d.atime, d.mtime, 0);
        continue;
      }
      let dirfd: number;
      try {
        dirfd = this.#openDir(d.parts.slice(0, -1));
      } catch {
        continue; // replaced by a later entry
      }
      try {
        fs.utimensat(dirfd, d.parts[d.parts.length - 1]!, d.atime, d.mtime, fs.AT_SYMLINK_NOFOLLOW);
      } catch {
        /* the directory was replaced by a later entry */
      } finally {
        fs.close(dirfd);
      }
    }
  }
}

/** xattrs from the archive, minus overlay's own (an image must not forge whiteouts or redirects). */
function xattrsToSet(e: TarEntry): [string, Uint8Array][] {
  return [...e.xattrs].filter(([k]) => !k.startsWith("trusted.overlay.") && !k.startsWith("user.overlay."));
}

/** Unsupported xattr namespaces on the store's file system are skipped, as docker does. */
function trySet(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof SysError && (e.code === "EOPNOTSUPP" || e.code === "ENOTSUP")) return;
    throw e;
  }
}
