/**
 * Test-only tar writer, independent of src/image (so a bug in the reader is
 * not mirrored here). Writes ustar headers, pax headers for long names and
 * xattrs, or GNU 'L'/'K' records when asked.
 */
export type TestEntry = {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  data?: string | Uint8Array;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  longNames?: "pax" | "gnu";
};

const FLAGS = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" } as const;
const enc = new TextEncoder();

function field(h: Uint8Array, off: number, len: number, s: string): void {
  h.set(enc.encode(s).subarray(0, len), off);
}
function octal(h: Uint8Array, off: number, len: number, n: number): void {
  field(h, off, len, `${n.toString(8).padStart(len - 1, "0")}\0`);
}

function header(name: string, flag: string, size: number, e: Partial<TestEntry>, linkname = ""): Uint8Array {
  const h = new Uint8Array(512);
  field(h, 0, 100, name);
  octal(h, 100, 8, e.mode ?? (flag === "5" ? 0o755 : 0o644));
  octal(h, 108, 8, e.uid ?? 0);
  octal(h, 116, 8, e.gid ?? 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, e.mtime ?? 1_700_000_000);
  field(h, 148, 8, "        ");
  field(h, 156, 1, flag);
  field(h, 157, 100, linkname);
  field(h, 257, 8, "ustar\u000000");
  octal(h, 329, 8, e.devmajor ?? 0);
  octal(h, 337, 8, e.devminor ?? 0);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

function padded(data: Uint8Array): Uint8Array[] {
  const pad = (512 - (data.length % 512)) % 512;
  return [data, new Uint8Array(pad)];
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

export function tar(entries: TestEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? "file";
    const data = type === "file" ? (typeof e.data === "string" ? enc.encode(e.data) : (e.data ?? new Uint8Array(0))) : new Uint8Array(0);
    const link = e.linkname ?? "";
    const long = Buffer.byteLength(e.name) > 99 || Buffer.byteLength(link) > 99;
    const pax: string[] = [];
    if (e.xattrs) for (const [k, v] of Object.entries(e.xattrs)) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (long && e.longNames === "gnu") {
      if (Buffer.byteLength(e.name) > 99) {
        const n = enc.encode(`${e.name}\0`);
        parts.push(header("././@LongLink", "L", n.length, {}), ...padded(n));
      }
      if (Buffer.byteLength(link) > 99) {
        const n = enc.encode(`${link}\0`);
        parts.push(header("././@LongLink", "K", n.length, {}), ...padded(n));
      }
    } else if (long) {
      pax.push(paxRecord("path", e.name));
      if (link) pax.push(paxRecord("linkpath", link));
    }
    if (pax.length > 0) {
      const p = enc.encode(pax.join(""));
      parts.push(header("PaxHeaders/x", "x", p.length, {}), ...padded(p));
    }
    parts.push(header(e.name.slice(0, 99), FLAGS[type], data.length, e, link.slice(0, 99)), ...padded(data));
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}
