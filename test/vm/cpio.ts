/** A cpio "newc" archive writer (the initramfs format the kernel unpacks). */

export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Uint8Array; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function cpioNewc(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Uint8Array, rdev: [number, number] = [0, 0], nlink = 1) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const header =
      "070701" + hex8(ino++) + hex8(mode) + hex8(0) + hex8(0) + hex8(nlink) + hex8(0) + hex8(data.length) +
      hex8(0) + hex8(0) + hex8(rdev[0]) + hex8(rdev[1]) + hex8(nameBytes.length) + hex8(0);
    parts.push(Buffer.from(header), nameBytes, new Uint8Array(pad4(110 + nameBytes.length)), data, new Uint8Array(pad4(data.length)));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    if (e.kind === "dir") push(name, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0), [0, 0], 2);
    else if (e.kind === "file") push(name, S_IFREG | (e.mode ?? 0o644), e.data);
    else if (e.kind === "symlink") push(name, S_IFLNK | 0o777, Buffer.from(e.target));
    else push(name, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), [e.major, e.minor]);
  }
  push("TRAILER!!!", 0, new Uint8Array(0), [0, 0], 1);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total + pad4(total) + (512 - ((total + pad4(total)) % 512)) % 512);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
