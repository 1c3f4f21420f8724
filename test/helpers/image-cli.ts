/** Runs dist/pelagos as a black box, with its own data dir. */
import { lstatSync, readdirSync, readFileSync, readlinkSync, existsSync } from "node:fs";
import { lgetxattr } from "../../ffi/fs.ts";

export const BIN = `${import.meta.dir}/../../dist/pelagos`;

export type Result = { code: number; stdout: string; stderr: string };

export async function pelagos(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Result> {
  const p = Bun.spawn([BIN, ...args], {
    env: { ...process.env, ...env },
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

export function binBuilt(): boolean {
  return existsSync(BIN);
}

/** A description of a tree: one line per entry, sorted, with type, mode, owner and content or target. */
export function describeTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(`${root}/${rel}`).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = `${root}/${r}`;
      const st = lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      const own = `${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        const opq = lgetxattr(full, "trusted.overlay.opaque");
        out.push(`d ${r} ${mode} ${own}${opq ? " opaque" : ""}`);
        walk(r);
      } else if (st.isSymbolicLink()) out.push(`l ${r} -> ${readlinkSync(full)}`);
      else if (st.isCharacterDevice()) out.push(`c ${r} ${Math.floor(st.rdev / 256)},${st.rdev % 256}`);
      else if (st.isFile()) {
        const data = readFileSync(full);
        const body = data.length <= 64 ? JSON.stringify(data.toString("utf8")) : `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex").slice(0, 12)}`;
        out.push(`f ${r} ${mode} ${own} ${body}${st.nlink > 1 ? ` links=${st.nlink}` : ""}`);
      } else out.push(`? ${r}`);
    }
  };
  walk("");
  return out;
}
