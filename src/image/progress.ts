/**
 * Pull progress. On a terminal: one line per layer, redrawn in place at most
 * every 100 ms. Not on a terminal, or with -q: silent (the CLI prints one
 * summary line).
 */
export interface LayerProgress {
  advance(bytes: number): void;
  done(status: string): void;
}
export interface Progress {
  layer(id: string, total: number, status: string): LayerProgress;
  finish(): void;
}

export const silentProgress: Progress = {
  layer: () => ({ advance() {}, done() {} }),
  finish() {},
};

const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}MB` : `${(n / 1e3).toFixed(1)}kB`);

export class TerminalProgress implements Progress {
  #rows: { id: string; total: number; got: number; status: string }[] = [];
  #drawn = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  layer(id: string, total: number, status: string): LayerProgress {
    const row = { id: id.replace(/^sha256:/, "").slice(0, 12), total, got: 0, status };
    this.#rows.push(row);
    this.#schedule();
    return {
      advance: (n) => {
        row.got += n;
        row.status = "Downloading";
        this.#schedule();
      },
      done: (s) => {
        row.status = s;
        row.got = row.total;
        this.#schedule();
      },
    };
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, 100);
  }

  #draw(): void {
    const width = 30;
    const lines = this.#rows.map((r) => {
      if (r.status !== "Downloading") return `${r.id}: ${r.status}`;
      const frac = r.total > 0 ? Math.min(1, r.got / r.total) : 0;
      const fill = Math.round(frac * width);
      return `${r.id}: Downloading [${"=".repeat(Math.max(0, fill - 1))}${fill > 0 ? ">" : ""}${" ".repeat(width - fill)}] ${mb(r.got)}/${mb(r.total)}`;
    });
    let s = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const l of lines) s += `\x1b[2K${l}\n`;
    this.out.write(s);
    this.#drawn = lines.length;
  }

  finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#rows.length > 0) this.#draw();
  }
}

export function makeProgress(quiet: boolean | undefined): Progress {
  return !quiet && process.stderr.isTTY ? new TerminalProgress() : silentProgress;
}
