/**
 * `pelagos logs`: reads what the supervisor wrote. stdout.log and stderr.log
 * (plus rotated .1 … .N, oldest last) hold CRI log records, one per line:
 *   2026-11-29T00:00:00.123456789Z stdout F text      (P = partial, continued)
 * Records of one stream are joined into lines, both streams merged by time
 * (the fixed-width timestamps sort as strings), and each line goes back to
 * the stream it came from.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { UsageError } from "../errors.ts";

export type Stream = "stdout" | "stderr";
export type LogLine = { ts: string; stream: Stream; text: string };

const RECORD = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s;

/** Groups raw file lines into log lines; a trailing partial line is kept in `pending`. */
export class LineJoiner {
  #pending: LogLine | undefined;
  constructor(readonly stream: Stream) {}

  push(raw: string, out: LogLine[]): void {
    const m = RECORD.exec(raw);
    if (!m) return;
    const [, ts, , tag, text] = m as unknown as [string, string, Stream, string, string];
    const cur = this.#pending ?? { ts, stream: this.stream, text: "" };
    cur.text += text;
    if (tag === "P") {
      this.#pending = cur;
      return;
    }
    cur.text += "\n";
    this.#pending = undefined;
    out.push(cur);
  }

  /** A partial line at the very end (the container exited mid-line). */
  flush(out: LogLine[]): void {
    if (this.#pending) out.push(this.#pending);
    this.#pending = undefined;
  }
}

/** Follows one stream's current file across rotations. */
export class StreamReader {
  readonly joiner: LineJoiner;
  #fd: number | undefined;
  #ino = 0;
  #pos = 0;
  #rest = "";

  constructor(
    readonly dir: string,
    readonly stream: Stream,
  ) {
    this.joiner = new LineJoiner(stream);
  }

  /** Everything currently stored, oldest first (rotated files, then the current one). */
  readExisting(out: LogLine[]): void {
    for (let i = 9; i >= 1; i--) {
      const p = `${this.dir}/${this.stream}.log.${i}`;
      if (!existsSync(p)) continue;
      const fd = openSync(p, "r");
      try {
        this.#drain(fd, 0, out);
        this.#rest = "";
      } finally {
        closeSync(fd);
      }
    }
    this.poll(out);
  }

  /** Reads what was appended since the last call; reopens the file after a rotation. */
  poll(out: LogLine[]): void {
    const path = `${this.dir}/${this.stream}.log`;
    let ino: number;
    try {
      ino = statSync(path).ino;
    } catch {
      return;
    }
    if (this.#fd !== undefined && ino !== this.#ino) {
      this.#pos = this.#drain(this.#fd, this.#pos, out); // the rest of the rotated file
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#fd === undefined) {
      this.#fd = openSync(path, "r");
      this.#ino = fstatSync(this.#fd).ino;
      this.#pos = 0;
    }
    this.#pos = this.#drain(this.#fd, this.#pos, out);
  }

  #drain(fd: number, pos: number, out: LogLine[]): number {
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) return pos;
      pos += n;
      const text = this.#rest + buf.toString("utf8", 0, n);
      const lines = text.split("\n");
      this.#rest = lines.pop()!;
      for (const l of lines) this.joiner.push(l, out);
    }
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** --since: RFC 3339, a Unix timestamp, or a duration back from now (10s, 5m, 2h). */
export function parseSince(v: string, now = Date.now()): string {
  const d = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(v);
  let ms: number;
  if (d) ms = now - Number(d[1]) * { s: 1e3, m: 6e4, h: 3.6e6 }[d[2] as "s"];
  else if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new UsageError(`Invalid --since "${v}": expected a time (RFC 3339), a Unix timestamp or a duration (10s, 5m, 2h)`);
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

export function byTime(a: LogLine, b: LogLine): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
}

export function emit(lines: LogLine[], o: { timestamps: boolean; since?: string }): void {
  for (const l of lines) {
    if (o.since && l.ts < o.since) continue;
    writeSync(l.stream === "stdout" ? 1 : 2, o.timestamps ? `${l.ts} ${l.text}` : l.text);
  }
}

export type LogsOptions = { follow: boolean; tail?: number; since?: string; timestamps: boolean };

/** Prints the logs; with follow, keeps going until `running()` turns false and everything is read. */
export async function printLogs(dir: string, o: LogsOptions, running: () => boolean): Promise<void> {
  const readers = [new StreamReader(dir, "stdout"), new StreamReader(dir, "stderr")];
  try {
    const first: LogLine[] = [];
    for (const r of readers) r.readExisting(first);
    if (!o.follow) for (const r of readers) r.joiner.flush(first);
    first.sort(byTime);
    emit(o.tail === undefined ? first : o.tail === 0 ? [] : first.slice(-o.tail), o);
    if (!o.follow) return;
    for (;;) {
      const alive = running();
      const batch: LogLine[] = [];
      for (const r of readers) r.poll(batch);
      if (!alive) for (const r of readers) r.joiner.flush(batch);
      emit(batch.sort(byTime), o);
      if (!alive) return;
      await Bun.sleep(100);
    }
  } finally {
    for (const r of readers) r.close();
  }
}
