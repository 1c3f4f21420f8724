/**
 * A streaming tar reader: ustar, pax (per-file and global headers, long
 * names, sizes, fractional times, SCHILY/LIBARCHIVE xattrs), GNU long names
 * and link names ('L'/'K'), base-256 numbers, v7. GNU sparse files are
 * refused. Entries are handed to a callback with a body stream that must be
 * read (or is skipped) before the next header is parsed.
 */
import { ByteReader } from "./byte-reader.ts";

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export type TarEntry = {
  type: EntryType;
  /** As stored in the archive (not cleaned). */
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  atimeNs?: bigint;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
};

export class TarFormatError extends Error {
  override name = "TarFormatError";
}

const dec = new TextDecoder();

function cstring(b: Uint8Array, off: number, len: number): string {
  const f = b.subarray(off, off + len);
  const z = f.indexOf(0);
  return dec.decode(z === -1 ? f : f.subarray(0, z));
}

/** The common case without allocating: [spaces/NULs] octal digits [spaces] (NUL… | end). Else -1. */
function plainOctal(b: Uint8Array, off: number, end: number): number {
  let i = off;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  while (i < end && b[i] === 0x20) i++;
  if (i < end && b[i] !== 0) return -1;
  return digits === 0 && i < end ? -1 : v;
}

function number(b: Uint8Array, off: number, len: number): number {
  if (!(b[off]! & 0x80)) {
    const v = plainOctal(b, off, off + len);
    if (v >= 0) return v;
  }
  const f = b.subarray(off, off + len);
  if (f[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as a marker.
    let v = BigInt(f[0]! & 0x7f);
    for (let i = 1; i < f.length; i++) v = (v << 8n) | BigInt(f[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError("Number field too large");
    return Number(v);
  }
  const s = dec.decode(f).replace(/[\0 ]+$/g, "").replace(/^[ \0]+/, "").split("\0")[0]!.trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`Invalid octal field "${s}"`);
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  const want = number(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 32 : h[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

function parseTimeNs(s: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,9})\d*)?$/.exec(s);
  if (!m) throw new TarFormatError(`Invalid pax time "${s}"`);
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? "").padEnd(9, "0") || "0");
  return m[1] === "-" ? -ns : ns;
}

/** Parses pax records `"<len> <key>=<value>\n"`; values stay bytes (xattr values are binary). */
export function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break;
    const sp = data.indexOf(0x20, off);
    if (sp === -1) throw new TarFormatError("Invalid pax record");
    const len = parseInt(dec.decode(data.subarray(off, sp)), 10);
    if (!Number.isFinite(len) || len <= sp - off || off + len > data.length) throw new TarFormatError("Invalid pax record length");
    const rec = data.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError("Invalid pax record");
    out.set(dec.decode(rec.subarray(0, eq)), rec.subarray(eq + 1).slice());
    off += len;
  }
  return out;
}

const TYPES: Record<string, EntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo",
};

type Pending = { pax: Map<string, Uint8Array>; longName?: string; longLink?: string };

function applyPax(e: TarEntry, pax: Map<string, Uint8Array>): void {
  for (const [k, raw] of pax) {
    const val = () => dec.decode(raw);
    if (k === "path") e.name = val();
    else if (k === "linkpath") e.linkname = val();
    else if (k === "size") e.size = Number(val());
    else if (k === "uid") e.uid = Number(val());
    else if (k === "gid") e.gid = Number(val());
    else if (k === "mtime") e.mtimeNs = parseTimeNs(val());
    else if (k === "atime") e.atimeNs = parseTimeNs(val());
    else if (k.startsWith("SCHILY.xattr.")) e.xattrs.set(k.slice(13), raw);
    else if (k.startsWith("LIBARCHIVE.xattr."))
      e.xattrs.set(decodeURIComponent(k.slice(17)), Buffer.from(val(), "base64"));
    else if (k === "GNU.sparse.major" || k === "GNU.sparse.map") throw new TarFormatError("GNU sparse files are not supported");
  }
  if (!Number.isSafeInteger(e.size) || e.size < 0) throw new TarFormatError(`Invalid size for "${e.name}"`);
}

function parseHeader(h: Uint8Array, p: Pending, global: Map<string, Uint8Array>): TarEntry | { meta: string; size: number } {
  if (!checksumOk(h)) throw new TarFormatError("Invalid tar header checksum");
  const flag = String.fromCharCode(h[156]!);
  const size = number(h, 124, 12);
  if ("xgLK".includes(flag)) return { meta: flag, size };
  if (flag === "S") throw new TarFormatError("GNU sparse files are not supported");
  const magic = cstring(h, 257, 6);
  const ustar = magic === "ustar" && h[263] === 0x30 && h[264] === 0x30; // POSIX; GNU is "ustar  "
  let name = cstring(h, 0, 100);
  if (ustar) {
    const prefix = cstring(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  let type = TYPES[flag];
  if (type === undefined) type = "file"; // unknown types are regular files per POSIX
  if (type === "file" && name.endsWith("/") && flag !== "0" && flag !== "7") type = "dir"; // v7 directories
  const e: TarEntry = {
    type, name, linkname: cstring(h, 157, 100), mode: number(h, 100, 8) & 0o7777,
    uid: number(h, 108, 8), gid: number(h, 116, 8), size, mtimeNs: BigInt(number(h, 136, 12)) * 1_000_000_000n,
    devmajor: magic.startsWith("ustar") ? number(h, 329, 8) : 0, devminor: magic.startsWith("ustar") ? number(h, 337, 8) : 0,
    xattrs: new Map(),
  };
  if (p.longName !== undefined) e.name = p.longName;
  if (p.longLink !== undefined) e.linkname = p.longLink;
  applyPax(e, global);
  applyPax(e, p.pax);
  if (e.type !== "file") e.size = 0; // Go archive/tar and docker: only regular files carry data
  return e;
}

const pad = (n: number) => (512 - (n % 512)) % 512;

/**
 * Reads the archive, calling `onEntry` for each entry. The body iterator
 * yields the entry's data; whatever the callback leaves unread is skipped.
 * The source is drained to its end after the end-of-archive marker.
 */
export async function readTar(
  src: AsyncIterable<Uint8Array>,
  onEntry: (e: TarEntry, body: AsyncIterable<Uint8Array>) => Promise<void> | void,
): Promise<void> {
  const r = new ByteReader(src);
  const global = new Map<string, Uint8Array>();
  let p: Pending = { pax: new Map() };
  for (;;) {
    const h = await r.exact(512);
    if (h.byteLength === 0) break; // no end marker: accepted, like GNU tar
    if (h.byteLength < 512) throw new TarFormatError("Truncated tar header");
    if (h.every((b) => b === 0)) break;
    const e = parseHeader(h, p, global);
    if ("meta" in e) {
      if (e.size > 64 * 1024 * 1024) throw new TarFormatError("Tar metadata header too large");
      const data = (await r.exact(e.size)).slice();
      if (data.byteLength < e.size) throw new TarFormatError("Truncated tar metadata");
      await r.skip(pad(e.size));
      if (e.meta === "x") for (const [k, v] of parsePax(data)) p.pax.set(k, v);
      else if (e.meta === "g") for (const [k, v] of parsePax(data)) global.set(k, v);
      else if (e.meta === "L") p.longName = cstring(data, 0, data.length);
      else p.longLink = cstring(data, 0, data.length);
      continue;
    }
    p = { pax: new Map() };
    let consumed = 0;
    const body = (async function* () {
      for await (const c of r.take(e.size)) {
        consumed += c.byteLength;
        yield c;
      }
    })();
    await onEntry(e, body);
    await r.skip(e.size - consumed + pad(e.size));
  }
  await r.drain();
}
