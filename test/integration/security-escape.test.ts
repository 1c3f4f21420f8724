/**
 * Escape resistance: each test plants an attack (in a rootfs copy, or from
 * inside the container) and checks on the host that nothing happened.
 *   - CVE-2019-5736 class: the init runs from a sealed memfd, never from the
 *     pelagos binary, so /proc/PID/exe cannot be written through
 *   - CVE-2021-30465 class: symlinks at mount destinations stay inside the rootfs
 *   - masked paths cannot be read through /proc/self/root, /proc/1/root or symlinks
 *   - no host file descriptor reaches the container
 */
import { describe, expect } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, constants } from "node:fs";
import * as sys from "../../ffi/sys.ts";
import { makeBundle, useRootfsAndScratch } from "../helpers/rootfs.ts";
import { explain, PELAGOS_BIN, runCli, uniqueId, useRuntimeRoot } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();
const fx = useRootfsAndScratch(skip, "pelagos-esc-");

const F_GET_SEALS = 1034;
const run = (args: string[], root = fx.rootfs) => rt.run(["run", "--rm", "--rootfs", root, ...args]);
/** Mount points in the host's (this process's) mount namespace. */
const hostMountPoints = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4]).filter(Boolean) as string[];
const snapshotEtc = () => ({ list: readdirSync("/etc").sort().join(","), hostname: readFileSync("/etc/hostname", "utf8"), mounts: hostMountPoints().filter((m) => m.startsWith("/etc")) });

describe("CVE-2019-5736 class: /proc/PID/exe is a sealed memfd, not the pelagos binary", () => {
  itIf(skip, "a created container's init cannot be written through /proc/PID/exe", async () => {
    const b = await makeBundle({ args: ["/probe", "status"] });
    const id = uniqueId();
    try {
      const c = await rt.run(["create", "--bundle", b.dir, id]);
      expect(c.code, explain(c)).toBe(0);
      const st = await rt.run(["state", id]);
      const pid = (JSON.parse(st.stdout) as { pid: number }).pid;
      expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:pelagos/);
      expect(readlinkSync(`/proc/${pid}/exe`)).not.toContain("dist/pelagos");
      let err: NodeJS.ErrnoException | undefined;
      try {
        closeSync(openSync(`/proc/${pid}/exe`, constants.O_WRONLY));
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      expect(["ETXTBSY", "EPERM", "EACCES"]).toContain(err?.code ?? "opened for writing");
      const fd = sys.open(`/proc/${pid}/exe`, sys.O_RDONLY);
      try {
        const seals = sys.fcntl(fd, F_GET_SEALS);
        expect(seals & sys.F_SEAL_WRITE).toBe(sys.F_SEAL_WRITE);
        expect(seals & sys.F_SEAL_SEAL).toBe(sys.F_SEAL_SEAL);
      } finally {
        sys.close(fd);
      }
    } finally {
      await rt.run(["delete", "--force", id]);
      b.cleanup();
    }
  });

  itIf(skip, "inside a container, pid 1's exe is the workload, and pelagos is not reachable", async () => {
    const r = await run(["sh", "-c", "readlink /proc/1/exe; ls /proc/*/exe 2>/dev/null | wc -l"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).not.toContain("pelagos");
  });
});

describe("CVE-2019-5736 class, without a pid namespace", () => {
  itIf(skip, "a container sharing the host's pids cannot open the runtime's or the trampoline's /proc/PID/exe", async () => {
    const script = [
      "for p in /proc/[0-9]*; do",
      "  [ $p = /proc/$$ ] && continue",
      "  case $(tr '\\0' ' ' < $p/cmdline 2>/dev/null) in pelagos-init*|*/pelagos\\ *) ;; *) continue;; esac",
      "  echo found",
      "  cat $p/exe >/dev/null 2>&1 && echo READABLE $p $(tr '\\0' ' ' < $p/cmdline)",
      "  (echo x >> $p/exe) 2>/dev/null && echo WRITABLE $p",
      "done; true",
    ].join("\n");
    const b = await makeBundle({ namespaces: ["mount", "ipc", "uts", "network"], args: ["sh", "-c", script] });
    try {
      const r = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toContain("found");
      expect(r.stdout).not.toContain("READABLE");
      expect(r.stdout).not.toContain("WRITABLE");
    } finally {
      b.cleanup();
    }
  });
});

describe("CVE-2021-30465 class: symlinks planted at mount destinations stay inside the rootfs", () => {
  itIf(skip, "volumes and tmpfs onto symlinks to /etc, ../../.. land on the container's own directories", async () => {
    const b = await makeBundle({ writable: true });
    const before = snapshotEtc();
    try {
      const src = `${fx.scratch}/src`;
      mkdirSync(src, { recursive: true });
      writeFileSync(`${src}/planted`, "from the volume\n");
      for (const d of ["data", "vol", "mnt"]) rmSync(`${b.rootfs}/${d}`, { recursive: true, force: true });
      symlinkSync("/etc", `${b.rootfs}/data`);
      symlinkSync("../../../../../../../../etc", `${b.rootfs}/vol`);
      symlinkSync("/../../../tmp", `${b.rootfs}/mnt`);
      const r = await run(["-v", `${src}:/data`, "-v", `${src}:/vol/sub`, "--tmpfs", "/mnt/x", "sh", "-c",
        "cat /etc/planted; ls /etc/sub; ls -d /tmp/x"], b.rootfs);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toContain("from the volume");
      expect(r.stdout).toContain("/tmp/x");
      expect(snapshotEtc()).toEqual(before);
      expect(existsSync("/etc/planted")).toBe(false);
      expect(existsSync("/etc/sub")).toBe(false);
      expect(existsSync("/tmp/x") && hostMountPoints().includes("/tmp/x")).toBe(false);
      // the mounts were made in the container's namespace only
      expect(existsSync(`${b.rootfs}/etc/planted`)).toBe(false);
    } finally {
      b.cleanup();
    }
  });

  itIf(skip, "a rootfs whose /proc and /dev are symlinks: proc, /dev and the masks still land inside", async () => {
    const b = await makeBundle({ writable: true });
    const before = snapshotEtc();
    try {
      rmSync(`${b.rootfs}/proc`, { recursive: true, force: true });
      mkdirSync(`${b.rootfs}/realproc`);
      symlinkSync("../../../../realproc", `${b.rootfs}/proc`);
      rmSync(`${b.rootfs}/dev`, { recursive: true, force: true });
      mkdirSync(`${b.rootfs}/realdev`);
      symlinkSync("/../../realdev", `${b.rootfs}/dev`);
      const r = await run(["sh", "-c", [
        "wc -c < /proc/interrupts", "wc -c < /proc/timer_list", "grep -c Seccomp /realproc/self/status",
        "grep -c ' /realproc/sys proc ro,' /proc/mounts", "echo x > /dev/null && ls /realdev | grep -cx null",
      ].join("; ")], b.rootfs);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout.trim().split("\n")).toEqual(["0", "0", "2", "1", "1"]);
      expect(snapshotEtc()).toEqual(before);
      expect(existsSync("/realdev") || existsSync("/realproc")).toBe(false);
      expect(readdirSync(`${b.rootfs}/realproc`)).toEqual([]);
      expect(readdirSync(`${b.rootfs}/realdev`)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });
});

describe("masked paths cannot be reached by other names", () => {
  itIf(skip, "/proc/self/root, /proc/1/root, symlinks and relative walks all see the mask", async () => {
    const r = await run(["--tmpfs", "/tmp", "sh", "-c", [
      "wc -c < /proc/self/root/proc/interrupts",
      "wc -c < /proc/1/root/proc/timer_list",
      "ln -s /proc/keys /tmp/k; wc -c < /tmp/k",
      "ls /proc/self/root/sys/firmware | wc -l",
      "cd /proc/self/root/proc && wc -c < ./keys",
      "ls /proc/1/root/proc/acpi | wc -l",
    ].join("; ")]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["0", "0", "0", "0", "0", "0"]);
  });

  itIf(skip, "read-only paths stay read-only by any name, and the masks cannot be unmounted", async () => {
    const host = readFileSync("/proc/sys/kernel/hostname", "utf8");
    const r = await run(["sh", "-c", [
      "echo evil > /proc/self/root/proc/sys/kernel/hostname && echo WROTE",
      "echo b > /proc/1/root/proc/sysrq-trigger && echo WROTE",
      "umount /proc/timer_list && echo UNMOUNTED",
      "umount -l /proc/sys && echo UNMOUNTED",
      "true",
    ].join("; ")]);
    expect(r.stdout, explain(r)).not.toContain("WROTE");
    expect(r.stdout).not.toContain("UNMOUNTED");
    expect(readFileSync("/proc/sys/kernel/hostname", "utf8")).toBe(host);
  });
});

describe("no host file descriptor reaches the container", () => {
  itIf(skip, "fds pelagos inherited without close-on-exec are closed before the workload runs", async () => {
    const cmd = `exec 3</etc/hostname 7</etc/passwd 9</etc/hostname; exec "$@"`;
    for (const args of [["run", "--rm", "--rootfs", fx.rootfs, "/probe", "fds"], ["run", "--rm", "--rootfs", fx.rootfs, "--privileged", "/probe", "fds"]]) {
      const r = await runCli("sh", ["-c", cmd, "sh", PELAGOS_BIN, "--root", rt.root, ...args]);
      expect(r.code, explain(r)).toBe(0);
      expect(Object.keys(parseKv(r.stdout)).sort()).toEqual(["0", "1", "2"]);
    }
    const b = await makeBundle({ args: ["/probe", "fds"] });
    try {
      const r = await runCli("sh", ["-c", cmd, "sh", PELAGOS_BIN, "--root", rt.root, "run", "--bundle", b.dir, uniqueId()]);
      expect(r.code, explain(r)).toBe(0);
      expect(Object.keys(parseKv(r.stdout)).sort()).toEqual(["0", "1", "2"]);
    } finally {
      b.cleanup();
    }
  });
});

describe("CVE-2019-5736 class during exec", () => {
  itIf(skip, "a #!/proc/self/exe program run by `pelagos exec` re-executes the sealed trampoline, and the host binary stays intact", async () => {
    const b = await makeBundle({ writable: true });
    writeFileSync(`${b.rootfs}/bin/evil`, "#!/proc/self/exe\n", { mode: 0o755 });
    const before = new Bun.CryptoHasher("sha256").update(readFileSync(PELAGOS_BIN)).digest("hex");
    const name = uniqueId("pelagos-esc");
    try {
      const d = await rt.run(["run", "-d", "--name", name, "--rootfs", b.rootfs, "sleep", "60"]);
      expect(d.code, explain(d)).toBe(0);
      for (let i = 0; i < 5; i++) {
        const r = await rt.run(["exec", name, "/bin/evil"]);
        // the kernel ran /proc/self/exe of the exec'ing process: the sealed trampoline, which exits 125
        // without a plan (pelagos itself reports no error: the program's own status comes back)
        expect(r.code, explain(r)).toBe(125);
        expect(r.stderr).not.toContain("pelagos: error");
      }
    } finally {
      await rt.run(["rm", "-f", name]);
      b.cleanup();
    }
    const after = new Bun.CryptoHasher("sha256").update(readFileSync(PELAGOS_BIN)).digest("hex");
    expect(after).toBe(before);
  }, 60_000);
});
