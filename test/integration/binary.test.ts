/**
 * The binary as a user meets it: --version, --help everywhere, a real
 * terminal with -it, and a host with no C compiler, headers or libc.so link.
 */
import { describe, expect } from "bun:test";
import { busyboxRootfs } from "../helpers/rootfs.ts";
import { explain, PELAGOS_BIN, pelagos, useRuntimeRoot } from "../helpers/pelagos.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skipBin = requires("pelagos");
const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();

describe("pelagos binary", () => {
  itIf(skipBin, "--version and version", async () => {
    const r = await pelagos(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pelagos version \d+\.\d+\.\d+/);
  });

  for (const cmd of ["", "run", "create", "start", "state", "kill", "delete", "list", "spec", "rm", "version"]) {
    itIf(skipBin, `pelagos ${cmd} --help prints usage and exits 0`, async () => {
      const r = await pelagos([...(cmd ? [cmd] : []), "--help"], { env: { NO_COLOR: "1" } });
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toContain("USAGE");
    });
  }

  itIf(skipBin, "an unknown command is a clear error", async () => {
    const r = await pelagos(["frobnicate"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Unknown command "frobnicate"');
  });

  itIf(skip, "-it gives a real terminal: tty, window size and SIGWINCH, exit status", async () => {
    const rootfs = await busyboxRootfs();
    // python's pty module plays the user's terminal
    const script = `
import os, pty, select, time, fcntl, termios, struct, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--root", sys.argv[2], "run", "--rm", "-it", "--rootfs", sys.argv[3], "sh"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
out = b""
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: d = os.read(fd, 4096)
            except OSError: return
            if not d: return
            out += d
pump(1.0)
os.write(fd, b"/probe tty; stty size\\n"); pump(1.0)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 100, 0, 0)); os.kill(pid, 28); time.sleep(0.3)
os.write(fd, b"stty size; exit 7\\n"); pump(1.5)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace")); print("STATUS", os.waitstatus_to_exitcode(st))
`;
    const p = Bun.spawn(["python3", "-c", script, PELAGOS_BIN, rt.root, rootfs], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    expect(out).toContain("isatty0=1");
    expect(out).toContain("ttyname0=/dev/pts/0");
    expect(out).toContain("ctty=1");
    expect(out).toContain("40 120");
    expect(out).toContain("50 100");
    expect(out).toContain("STATUS 7");
  });

  itIf(skip, "runs on a host with no compiler, no /usr/include and no libc.so link", async () => {
    const rootfs = await busyboxRootfs();
    // hide them in a private mount namespace, then run the binary there
    const hide = [
      "set -e",
      "mount -t tmpfs none /usr/include",
      "for f in /usr/bin/cc /usr/bin/gcc /usr/bin/gcc-* /usr/bin/tcc /usr/bin/x86_64-linux-gnu-gcc* /usr/lib/*/libc.so /usr/lib/libc.so; do [ -e \"$f\" ] && mount --bind /dev/null \"$f\" || true; done",
      "! command -v cc >/dev/null || ! cc --version >/dev/null 2>&1",
      `exec "$0" --root "$1" run --rm --rootfs "$2" sh -c 'echo no-compiler-ok'`,
    ].join("\n");
    const r = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "sh", "-c", hide, PELAGOS_BIN, rt.root, rootfs], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stdout.toString()).toContain("no-compiler-ok");
  });
});

