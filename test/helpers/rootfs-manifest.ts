/**
 * Tamper check for the shared rootfs cache. Bundles use it read-only, so after a
 * run it must be exactly as built: a runtime that ignores root.readonly, or
 * creates mount points in the rootfs, shows up here. The manifest sits beside
 * the rootfs (`<dir>.manifest`), not inside it, so containers cannot see it.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** One line per entry: path, type, mode, owner, and size+mtime (files) or target (links). */
export function rootfsManifest(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, r));
      const head = `${r} ${(st.mode & 0o177777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out.push(`${head} -> ${readlinkSync(join(dir, r))}`);
      else if (st.isFile()) out.push(`${head} ${st.size} ${Math.trunc(st.mtimeMs)}`);
      else out.push(head);
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

export function writeManifest(dir: string, manifestPath: string): void {
  const tmp = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(tmp, `${rootfsManifest(dir).join("\n")}\n`);
  renameSync(tmp, manifestPath);
}

/** Differences between a rootfs and its manifest ("+ added", "- removed/changed"); [] when intact or unknown. */
export function verifyRootfs(dir: string): string[] {
  const manifestPath = `${dir}.manifest`;
  if (!existsSync(manifestPath) || !existsSync(dir)) return [];
  const want = new Set(readFileSync(manifestPath, "utf8").split("\n").filter(Boolean));
  let have: Set<string>;
  try {
    have = new Set(rootfsManifest(dir));
  } catch {
    return []; // e.g. EACCES on /root when not run as root: cannot tell, so no claim
  }
  const diff: string[] = [];
  for (const l of have) if (!want.has(l)) diff.push(`+ ${l}`);
  for (const l of want) if (!have.has(l)) diff.push(`- ${l}`);
  return diff;
}

/** verifyRootfs() for every cached rootfs that has a manifest. */
export function verifyCachedRootfses(cacheDir: string): { dir: string; diff: string[] }[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir)
    .filter((n) => n.startsWith("rootfs-") && !n.endsWith(".manifest"))
    .map((n) => ({ dir: join(cacheDir, n), diff: verifyRootfs(join(cacheDir, n)) }))
    .filter((r) => r.diff.length > 0);
}
