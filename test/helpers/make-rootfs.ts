#!/usr/bin/env bun
/**
 * `bun test/helpers/make-rootfs.ts DIR`: a private copy of the busybox test
 * rootfs at DIR (for trying pelagos by hand: `pelagos run --rootfs DIR sh`).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { busyboxRootfs } from "./rootfs.ts";

const dest = resolve(process.argv[2] ?? "build/rootfs");
if (existsSync(dest)) {
  console.log(dest);
  process.exit(0);
}
const src = await busyboxRootfs();
const cp = Bun.spawnSync(["cp", "-a", src, dest], { stderr: "pipe" });
if (cp.exitCode !== 0) {
  console.error(`make-rootfs: cannot copy "${src}" to "${dest}": ${cp.stderr.toString().trim()}`);
  process.exit(1);
}
console.log(dest);
