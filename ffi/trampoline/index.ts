/**
 * The embedded trampoline as a sealed memfd: /proc/self/fd/N is what the
 * runtime executes, so /proc/PID/exe of a container's init (until execve) and
 * of the trampoline that waits on it is a file nobody can write (CVE-2019-5736).
 */
import { TRAMPOLINE_ARCH, TRAMPOLINE_BASE64 } from "./blob.gen.ts";
import * as sys from "../sys.ts";

let fd: number | undefined;

export function trampolineFd(): number {
  if (fd !== undefined) return fd;
  if (TRAMPOLINE_ARCH !== process.arch)
    throw new Error(`This pelagos binary embeds a trampoline for ${TRAMPOLINE_ARCH}, not ${process.arch}`);
  const bytes = Buffer.from(TRAMPOLINE_BASE64, "base64");
  const m = sys.memfdCreate("pelagos-init", sys.MFD_CLOEXEC | sys.MFD_ALLOW_SEALING);
  sys.writeAll(m, bytes);
  sys.fcntl(m, sys.F_ADD_SEALS, sys.F_SEAL_SEAL | sys.F_SEAL_SHRINK | sys.F_SEAL_GROW | sys.F_SEAL_WRITE);
  fd = m;
  return m;
}
