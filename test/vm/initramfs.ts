/**
 * The test VM's initramfs: busybox-static, the glibc a Bun binary needs (from
 * `ldd`), the kernel modules (with dependencies), the init script, and the
 * command to run. Built in memory as cpio newc, uncompressed (a few MB).
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { type CpioEntry, cpioNewc } from "./cpio.ts";
import { resolveModules } from "./kernel.ts";

/** Modules the tests need; their dependencies are added. Missing names are builtins. */
export const GUEST_MODULES = [
  "virtio_pci", "virtio_blk", "9pnet_virtio", "9p", "overlay", "veth", "bridge", "crc32c_generic", "nf_tables", "nft_chain_nat", "nft_masq", "nft_nat", "nft_ct",
];

export type InitramfsInput = {
  modulesDir: string;
  /** binaries whose shared libraries must be present (bun, dist/pelagos) */
  binaries: string[];
  /** [9p mount tag, guest path] */
  shares: [string, string][];
  cwd: string;
  command: string[];
  env?: Record<string, string>;
};

function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** Libraries `ldd` lists for the binaries: [path the loader looks for, file with the contents]. */
export function sharedLibraries(binaries: string[]): [string, string][] {
  const out = new Map<string, string>();
  for (const bin of binaries) {
    if (!existsSync(bin)) continue;
    const r = Bun.spawnSync(["ldd", bin], { stdout: "pipe", stderr: "pipe" });
    for (const line of r.stdout.toString().split("\n")) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m?.[1]) out.set(m[1], realpathSync(m[1]));
    }
  }
  return [...out];
}

function parentDirs(path: string, seen: Set<string>, entries: CpioEntry[]): void {
  const parts = path.split("/").filter((p) => p !== "");
  for (let i = 1; i < parts.length; i++) {
    const d = `/${parts.slice(0, i).join("/")}`;
    if (!seen.has(d)) {
      seen.add(d);
      entries.push({ kind: "dir", path: d });
    }
  }
}

export function buildInitramfs(input: InitramfsInput): Uint8Array {
  const entries: CpioEntry[] = [];
  const seen = new Set<string>();
  const file = (path: string, data: Uint8Array, mode = 0o644) => {
    parentDirs(path, seen, entries);
    entries.push({ kind: "file", path, data, mode });
  };
  for (const d of ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/proc", "/sys", "/dev", "/tmp", "/run", "/etc", "/root", "/lib64"]) {
    seen.add(d);
    entries.push({ kind: "dir", path: d });
  }
  entries.push({ kind: "chardev", path: "/dev/console", major: 5, minor: 1 });
  file("/bin/busybox", readFileSync("/bin/busybox"), 0o755);
  file("/init", readFileSync(`${import.meta.dir}/guest-init.sh`), 0o755);
  for (const [path, real] of sharedLibraries(input.binaries)) file(path, readFileSync(real), 0o755);
  const modules = resolveModules(input.modulesDir, GUEST_MODULES);
  const loadList: string[] = [];
  for (const m of modules) {
    const path = `/lib/modules/${m.slice(m.lastIndexOf("/") + 1)}`;
    file(path, readFileSync(m));
    loadList.push(path);
  }
  file("/etc/modules-load", Buffer.from(`${loadList.join("\n")}\n`));
  file("/etc/shares", Buffer.from(input.shares.map(([t, p]) => `${t} ${p}\n`).join("")));
  file("/etc/cwd", Buffer.from(`${input.cwd}\n`));
  const env = Object.entries(input.env ?? {}).map(([k, v]) => `export ${k}=${quote(v)}\n`).join("");
  file("/etc/cmd.sh", Buffer.from(`${env}exec ${input.command.map(quote).join(" ")}\n`));
  file("/etc/passwd", Buffer.from("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"));
  file("/etc/group", Buffer.from("root:x:0:\nnogroup:x:65534:\n"));
  return cpioNewc(entries);
}
