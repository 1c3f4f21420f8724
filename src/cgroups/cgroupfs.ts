/**
 * The file operations the manager does on cgroupfs, behind an interface so
 * unit tests run against a fake tree in a temp dir. Every failure becomes a
 * PelagosError naming the action, the file and the errno.
 */
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmdirSync, writeFileSync, writeSync, constants } from "node:fs";
import { PelagosError } from "../errors.ts";

export type CgroupFs = {
  read(path: string): string;
  tryRead(path: string): string | undefined;
  write(path: string, value: string): void;
  /**
   * Writes each value with its own write(2) on one open file (devices.allow takes one rule per
   * write); a failure carries the index of its value in `details.index`. Optional: write() each.
   */
  writeEach?(path: string, values: string[]): void;
  exists(path: string): boolean;
  /** Creates one directory; returns false when it already existed. */
  mkdir(path: string): boolean;
  rmdir(path: string): void;
  /** Subdirectory names. */
  children(path: string): string[];
  /** An O_RDONLY|O_DIRECTORY|O_CLOEXEC descriptor (for CLONE_INTO_CGROUP and BPF_PROG_ATTACH). */
  openDir(path: string): number;
  /** An O_WRONLY|O_CLOEXEC descriptor of an existing file (never created). */
  openWrite(path: string): number;
  closeFd(fd: number): void;
};

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

export function cgroupError(action: string, path: string, e: unknown): PelagosError {
  return new PelagosError("E_CGROUP", `${action} "${path}": ${code(e)}`, {
    cause: e,
    details: { errno: code(e) },
  });
}

/** The real filesystem (also used by tests on a temp dir: plain files behave like cgroup files for our purposes). */
export const hostCgroupFs: CgroupFs = {
  read(path) {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      throw cgroupError("Cannot read", path, e);
    }
  },
  tryRead(path) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
  write(path, value) {
    try {
      // cgroupfs files exist already; "r+" avoids O_CREAT so a missing file is ENOENT, never a new file.
      writeFileSync(path, value, { flag: "r+" });
    } catch (e) {
      throw cgroupError(`Cannot write "${value}" to`, path, e);
    }
  },
  writeEach(path, values) {
    let fd: number | undefined;
    let i = 0;
    try {
      fd = openSync(path, "r+");
      for (; i < values.length; i++) writeSync(fd, values[i]!);
    } catch (e) {
      const err = cgroupError(`Cannot write "${values[i]}" to`, path, e);
      err.details = { ...err.details, index: i };
      throw err;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  },
  exists(path) {
    return existsSync(path);
  },
  mkdir(path) {
    try {
      mkdirSync(path, { mode: 0o755 });
      return true;
    } catch (e) {
      if (code(e) === "EEXIST") return false;
      throw cgroupError("Cannot create cgroup", path, e);
    }
  },
  rmdir(path) {
    try {
      rmdirSync(path);
    } catch (e) {
      if (code(e) === "ENOENT") return;
      throw cgroupError("Cannot remove cgroup", path, e);
    }
  },
  children(path) {
    try {
      return readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  },
  openDir(path) {
    try {
      return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | 0o2000000);
    } catch (e) {
      throw cgroupError("Cannot open cgroup", path, e);
    }
  },
  openWrite(path) {
    try {
      return openSync(path, constants.O_WRONLY | 0o2000000);
    } catch (e) {
      throw cgroupError("Cannot open", path, e);
    }
  },
  closeFd(fd) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  },
};
