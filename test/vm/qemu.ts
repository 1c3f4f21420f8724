/**
 * Boots the test VM with qemu (TCG: no KVM on the build machines) and runs one
 * command in it. The project (and node_modules, when it lives elsewhere) is
 * shared read-only over virtio-9p at the same path; the command's output
 * comes back on the second serial port, followed by its exit status.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildInitramfs } from "./initramfs.ts";
import { getKernel, type Kernel } from "./kernel.ts";

export const PROJECT = realpathSync(`${import.meta.dir}/../..`);

export type VmOptions = {
  command: string[];
  cwd?: string;
  memoryMiB?: number;
  cpus?: number;
  timeoutMs?: number;
  /** host dirs shared read-only at the same path; default the project and node_modules */
  shares?: string[];
  /** called with each chunk of the command's output as it arrives */
  onOutput?: (text: string) => void;
  /** extra environment for the command; NO_COLOR=1 is set unless the host's stdout is a terminal */
  env?: Record<string, string>;
  /** boot the bzImage even when a PVH vmlinux is available */
  forceBzImage?: boolean;
};

export type VmResult = {
  exitCode: number;
  output: string;
  /** qemu start → the init's "ready" line (kernel boot, modules, mounts) */
  bootMs: number | undefined;
  totalMs: number;
  console: string;
  kernelImage: "vmlinux (PVH)" | "bzImage";
};

/** Why the VM cannot run here, or undefined. */
export function vmUnavailable(): string | undefined {
  if (process.arch !== "x64") return "the test VM is x86_64 only";
  if (Bun.which("qemu-system-x86_64") === null) return "qemu-system-x86_64 not found (apt-get install qemu-system-x86)";
  if (!existsSync("/bin/busybox")) return "/bin/busybox not found (apt-get install busybox-static)";
  for (const t of ["dpkg-deb", "apt-get", "xz", "ldd"]) if (Bun.which(t) === null) return `${t} not found`;
  return undefined;
}

function defaultShares(): string[] {
  const out = [PROJECT];
  const nm = `${PROJECT}/node_modules`;
  if (existsSync(nm)) {
    const real = realpathSync(nm);
    if (!real.startsWith(`${PROJECT}/`)) out.push(real);
  }
  return out;
}

function bunBinary(): string {
  const local = `${PROJECT}/node_modules/.bin/bun`;
  return existsSync(local) ? realpathSync(local) : process.execPath;
}

function qemuArgs(k: Kernel, initrd: string, consoleLog: string, opts: VmOptions, shares: string[]): { args: string[]; image: VmResult["kernelImage"] } {
  const useElf = k.vmlinux !== undefined && !opts.forceBzImage;
  const args = [
    "-M", process.env.PELAGOS_VM_MACHINE ?? "q35", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", String(opts.cpus ?? 2), "-m", String(opts.memoryMiB ?? 2048),
    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", useElf ? k.vmlinux! : k.bzImage, "-initrd", initrd,
    "-append", `console=ttyS0 quiet loglevel=3 cgroup_no_v1=all panic=-1 8250.nr_uarts=2 rdinit=/init mitigations=off tsc=reliable ${process.env.PELAGOS_VM_APPEND ?? ""}`,
    // ttyS0: the console, to a file; ttyS1: the command's output, to qemu's stdout.
    "-serial", `file:${consoleLog}`, "-chardev", "stdio,id=out,signal=off", "-serial", "chardev:out",
  ];
  // a small scratch disk (/dev/vda in the guest): io limits need a real block device
  const disk = `${consoleLog.slice(0, consoleLog.lastIndexOf("/"))}/disk.img`;
  writeFileSync(disk, "");
  truncateSync(disk, 64 << 20);
  args.push("-drive", `file=${disk},if=virtio,format=raw,cache=unsafe`);
  shares.forEach((path, i) => {
    args.push("-fsdev", `local,id=fs${i},path=${path},security_model=none,readonly=on`);
    args.push("-device", `virtio-9p-pci,fsdev=fs${i},mount_tag=s${i}`);
  });
  return { args, image: useElf ? "vmlinux (PVH)" : "bzImage" };
}

/** Reads ttyS1: everything after the READY line is the command's output, until the EXIT marker. */
async function readGuestOutput(stream: ReadableStream<Uint8Array>, start: number, onOutput?: (t: string) => void) {
  let output = "";
  let bootMs: number | undefined;
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (t: string) => {
    output += t;
    onOutput?.(t);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    const ready = /PELAGOS-VM-READY[^\n]*\n/.exec(pending);
    if (bootMs === undefined && ready) {
      bootMs = performance.now() - start;
      pending = pending.slice(ready.index + ready[0].length);
    }
    if (bootMs === undefined) continue;
    if (/PELAGOS-VM-EXIT \d+\n/.test(pending)) break;
    // Flush complete lines only: the marker always starts a line.
    const tail = pending.lastIndexOf("\n");
    if (tail >= 0) {
      emit(pending.slice(0, tail + 1));
      pending = pending.slice(tail + 1);
    }
  }
  reader.releaseLock();
  const m = /([\s\S]*?)PELAGOS-VM-EXIT (\d+)/.exec(pending);
  if (m?.[1]) emit(m[1]);
  return { output, bootMs, exitCode: m ? Number(m[2]) : undefined };
}

export async function runVm(opts: VmOptions): Promise<VmResult> {
  const t0 = performance.now();
  const kernel = getKernel();
  const shares = opts.shares ?? defaultShares();
  const dir = mkdtempSync(`${tmpdir()}/pelagos-vm-`);
  try {
    const binaries = [bunBinary(), `${PROJECT}/dist/pelagos`];
    const initrd = `${dir}/initrd.cpio`;
    writeFileSync(initrd, buildInitramfs({
      modulesDir: kernel.modulesDir, binaries, shares: shares.map((p, i) => [`s${i}`, p]), cwd: opts.cwd ?? PROJECT, command: opts.command,
      env: { ...(process.stdout.isTTY ? {} : { NO_COLOR: "1" }), ...opts.env },
    }));
    const consoleLog = `${dir}/console.log`;
    const { args, image } = qemuArgs(kernel, initrd, consoleLog, opts, shares);
    const start = performance.now();
    const qemu = Bun.spawn(["qemu-system-x86_64", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const errText = new Response(qemu.stderr).text();
    const timer = setTimeout(() => qemu.kill(9), opts.timeoutMs ?? 170_000);
    const read = await readGuestOutput(qemu.stdout, start, opts.onOutput);
    await Promise.race([qemu.exited, Bun.sleep(15_000)]);
    if (qemu.exitCode === null) qemu.kill(9);
    clearTimeout(timer);
    const consoleText = (existsSync(consoleLog) ? readFileSync(consoleLog, "utf8") : "") + (await errText);
    let output = read.output;
    if (read.exitCode === undefined) output += `\n[vm] no exit status from the guest (timeout or crash); console:\n${consoleText.slice(-4000)}`;
    return { exitCode: read.exitCode ?? 255, output, bootMs: read.bootMs, totalMs: performance.now() - t0, console: consoleText, kernelImage: image };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
