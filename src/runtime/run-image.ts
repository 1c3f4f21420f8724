/**
 * `pelagos run IMAGE`: the image's layers (pulled if needed) become the
 * lower layers of an overlay whose upper and work dirs are on disk under the
 * data dir (`containers/<name>/{upper,work,rootfs}`), never on tmpfs. The
 * overlay itself is mounted inside the container's mount namespace.
 */
import { mkdirSync, rmSync } from "node:fs";
import { readFileInRoot } from "../../ffi/sys.ts";
import { lstatSync } from "node:fs";
import type { Undo } from "../errors.ts";
import type { ImageDefaults } from "./run-options.ts";

export type PreparedRun = {
  rootfs: string;
  overlay: { lower: string[]; upper: string; work: string };
  defaults: ImageDefaults;
};

export function containerDataDir(dataDir: string, name: string): string {
  return `${dataDir}/containers/${name}`;
}

export async function prepareImage(
  o: { image?: string; pull?: "always" | "missing" | "never"; platform?: string; entrypoint?: string },
  name: string,
  undo: Undo,
): Promise<PreparedRun> {
  const { prepareImageRootfs, unregisterImageUse, dataDir } = await import("../image/index.ts");
  const prepared = await prepareImageRootfs(o.image!, {
    pull: o.pull ?? "missing", platform: o.platform, quiet: !process.stderr.isTTY, container: name,
  });
  undo.push(`release image ${prepared.reference}`, () => unregisterImageUse(name));
  const base = containerDataDir(dataDir(), name);
  // a stale writable layer of a container that crashed under the same name
  rmSync(base, { recursive: true, force: true });
  for (const d of ["upper", "work", "rootfs"]) mkdirSync(`${base}/${d}`, { recursive: true, mode: 0o700 });
  undo.push(`remove ${base}`, () => rmSync(base, { recursive: true, force: true }));
  return {
    rootfs: `${base}/rootfs`,
    overlay: { lower: prepared.layers, upper: `${base}/upper`, work: `${base}/work` },
    defaults: { config: prepared.config, read: layerReader(prepared.layers), entrypoint: o.entrypoint },
  };
}

/** Frees a container's writable layer and its hold on the image. */
export async function releaseImage(name: string): Promise<void> {
  const { unregisterImageUse, dataDir } = await import("../image/index.ts");
  rmSync(containerDataDir(dataDir(), name), { recursive: true, force: true });
  unregisterImageUse(name);
}

/** Reads a file as the merged image shows it: the topmost layer that has it, unless a whiteout hides it. */
export function layerReader(layers: string[]): (rel: string) => string | undefined {
  return (rel) => {
    for (const layer of [...layers].reverse()) {
      let st;
      try {
        st = lstatSync(`${layer}/${rel}`);
      } catch {
        continue;
      }
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whiteout
      if (!st.isFile()) return undefined;
      return readFileInRoot(layer, rel);
    }
    return undefined;
  };
}
