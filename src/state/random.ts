/**
 * Hashes and random names without `node:crypto`: importing it loads Node's
 * stream machinery (~5 ms of every start, measured in a compiled binary);
 * Bun's native hasher and Web Crypto cost nothing to load and give the same bytes.
 */

/** Hex sha256 of a string or bytes (identical to node:crypto's createHash("sha256")). */
export function sha256Hex(data: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** `n` random bytes as hex (2n characters). */
export function randomHex(n: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("hex");
}
