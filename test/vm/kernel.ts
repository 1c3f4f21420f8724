/**
 * Debian's linux-image-amd64 kernel for the test VM: downloaded with
 * `apt-get download` into a cache dir, unpacked with `dpkg-deb -x` (never
 * installed), and its ELF vmlinux extracted from the bzImage (the
 * scripts/extract-vmlinux approach: find the compressed payload's magic and
 * decompress from there) so qemu can boot it through the PVH entry point.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";

export const CACHE = process.env.PELAGOS_VM_CACHE ?? "/var/tmp/pelagos-vm-cache";

export type Kernel = {
  version: string;
  /** ELF vmlinux with a PVH note, or undefined when extraction failed (then boot `bzImage`) */
  vmlinux: string | undefined;
  bzImage: string;
  modulesDir: string;
};

function sh(cmd: string[], cwd?: string): string {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** The versioned package linux-image-amd64 depends on, e.g. "linux-image-6.1.0-56-amd64". */
function versionedPackage(): string {
  const out = sh(["apt-cache", "depends", "linux-image-amd64"]);
  const m = /Depends:\s*(linux-image-[0-9][^\s]*)/.exec(out);
  if (!m) throw new Error(`Cannot find the kernel package linux-image-amd64 depends on: ${out.trim()}`);
  return m[1]!;
}

export function getKernel(): Kernel {
  const debDir = `${CACHE}/deb`;
  mkdirSync(debDir, { recursive: true });
  let deb = readdirSync(debDir).find((f) => /^linux-image-[0-9].*\.deb$/.test(f));
  if (deb === undefined) {
    sh(["apt-get", "download", versionedPackage()], debDir);
    deb = readdirSync(debDir).find((f) => /^linux-image-[0-9].*\.deb$/.test(f));
    if (deb === undefined) throw new Error("apt-get download produced no linux-image package");
  }
  const root = `${CACHE}/kernel`;
  if (!existsSync(`${root}/boot`)) {
    const tmp = `${root}.tmp-${process.pid}`;
    sh(["dpkg-deb", "-x", `${debDir}/${deb}`, tmp]);
    try {
      renameSync(tmp, root);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // a concurrent run unpacked it first
    }
  }
  const bz = readdirSync(`${root}/boot`).find((f) => f.startsWith("vmlinuz-"));
  if (bz === undefined) throw new Error(`No vmlinuz in ${root}/boot`);
  const version = bz.slice("vmlinuz-".length);
  const bzImage = `${root}/boot/${bz}`;
  const vmlinux = `${CACHE}/vmlinux-${version}`;
  if (!existsSync(vmlinux) && !existsSync(`${vmlinux}.failed`)) extractVmlinux(bzImage, vmlinux);
  return { version, vmlinux: existsSync(vmlinux) ? vmlinux : undefined, bzImage, modulesDir: `${root}/lib/modules/${version}` };
}

const MAGICS: [string, Uint8Array, string[]][] = [
  ["xz", new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), ["xz", "-dc"]],
  ["zstd", new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]), ["zstd", "-dc"]],
  ["gzip", new Uint8Array([0x1f, 0x8b, 0x08]), ["gzip", "-dc"]],
];

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** An ELF with a XEN_ELFNOTE_PHYS32_ENTRY (18) note can be booted by qemu's PVH loader. */
export function hasPvhNote(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const hdr = new Uint8Array(64);
    readSync(fd, hdr, 0, 64, 0);
    const dv = new DataView(hdr.buffer);
    if (dv.getUint32(0) !== 0x7f454c46 || hdr[4] !== 2) return false;
    const phoff = Number(dv.getBigUint64(32, true));
    const phentsize = dv.getUint16(54, true), phnum = dv.getUint16(56, true);
    const ph = new Uint8Array(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    const pv = new DataView(ph.buffer);
    for (let i = 0; i < phnum; i++) {
      if (pv.getUint32(i * phentsize, true) !== 4 /* PT_NOTE */) continue;
      const off = Number(pv.getBigUint64(i * phentsize + 8, true));
      const size = Number(pv.getBigUint64(i * phentsize + 32, true));
      const notes = new Uint8Array(size);
      readSync(fd, notes, 0, size, off);
      const nv = new DataView(notes.buffer);
      for (let p = 0; p + 12 <= size; ) {
        const namesz = nv.getUint32(p, true), descsz = nv.getUint32(p + 4, true), type = nv.getUint32(p + 8, true);
        const name = Buffer.from(notes.subarray(p + 12, p + 12 + namesz)).toString().replace(/\0+$/, "");
        if (name === "Xen" && type === 18) return true;
        p += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3);
      }
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Tries each compression magic at each offset until the output is an ELF with a PVH note. */
export function extractVmlinux(bzImage: string, out: string): boolean {
  const data = readFileSync(bzImage);
  const tmp = `${out}.tmp-${process.pid}`;
  for (const [, magic, cmd] of MAGICS) {
    for (let at = indexOf(data, magic); at >= 0; at = indexOf(data, magic, at + 1)) {
      // The payload is followed by other bytes: decompressors complain about trailing data but write the output.
      const r = Bun.spawnSync(cmd, { stdin: data.subarray(at), stdout: "pipe", stderr: "ignore" });
      const elf = r.stdout;
      if (elf.length < 1024 * 1024 || elf.readUInt32BE(0) !== 0x7f454c46) continue;
      writeFileSync(tmp, elf);
      if (hasPvhNote(tmp)) {
        renameSync(tmp, out);
        return true;
      }
    }
  }
  writeFileSync(`${out}.failed`, "no PVH-bootable ELF payload found\n");
  return false;
}

/** `depends=` from a module's .modinfo section (found by scanning: the section holds NUL-separated key=value strings). */
export function moduleDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko).toString("latin1");
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m && m[1] ? m[1].split(",").filter((d) => d !== "") : [];
}

function indexModules(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    if (f.endsWith(".ko")) out.set(f.slice(f.lastIndexOf("/") + 1, -3).replaceAll("-", "_"), `${dir}/${f}`);
  }
  return out;
}

/** Module files for `names` and their dependencies, in load order (dependencies first). Builtins are skipped. */
export function resolveModules(modulesDir: string, names: string[]): string[] {
  const index = indexModules(`${modulesDir}/kernel`);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    const key = name.replaceAll("-", "_");
    if (seen.has(key)) return;
    seen.add(key);
    const path = index.get(key);
    if (path === undefined) return; // built into the kernel
    for (const d of moduleDepends(readFileSync(path))) visit(d);
    order.push(path);
  };
  names.forEach(visit);
  return order;
}
