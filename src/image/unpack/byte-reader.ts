/**
 * Pulls exact byte counts out of an async stream of chunks without
 * concatenating more than needed: `take(n)` yields views of the source
 * chunks, `exact(n)` copies only when a record spans two chunks.
 */
export class ByteReader {
  #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(src: AsyncIterable<Uint8Array>) {
    this.#it = src[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.byteLength === 0) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#buf = r.value;
    }
    return true;
  }

  /** Exactly `n` bytes, or fewer only at end of stream (the caller checks). */
  async exact(n: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    if (this.#buf.byteLength >= n) {
      const out = this.#buf.subarray(0, n);
      this.#buf = this.#buf.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n && (await this.#fill())) {
      const k = Math.min(n - got, this.#buf.byteLength);
      out.set(this.#buf.subarray(0, k), got);
      this.#buf = this.#buf.subarray(k);
      got += k;
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Yields the next `n` bytes as views; throws on a short stream. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.#fill())) throw new ShortStreamError(n - left, n);
      const k = Math.min(left, this.#buf.byteLength);
      const part = this.#buf.subarray(0, k);
      this.#buf = this.#buf.subarray(k);
      left -= k;
      yield part;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) {
      /* discard */
    }
  }

  /** Reads and discards the rest of the stream (so hashes over the whole stream complete). */
  async drain(): Promise<void> {
    this.#buf = new Uint8Array(0);
    while (!this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
    }
  }
}

export class ShortStreamError extends Error {
  override name = "ShortStreamError";
  constructor(got: number, want: number) {
    super(`Unexpected end of stream: got ${got} of ${want} bytes`);
  }
}
