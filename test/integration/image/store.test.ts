/**
 * The store under stress and over its lifecycle: a pull killed half-way is
 * repaired by the next one, two pulls at once, rm/tag/prune/df, container
 * registration keeping layers alive, prepareImageRootfs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { haveTools, push, pushRaw, startRegistry, type Registry } from "../../helpers/registry.ts";
import { Layout } from "../../helpers/oci-layout.ts";
import { binBuilt, BIN, pelagos } from "../../helpers/image-cli.ts";

const ok = haveTools() && binBuilt() && process.getuid?.() === 0;
let reg: Registry | undefined;
const cleanup: string[] = [];
let data = "";
const env = () => ({ PELAGOS_DATA_DIR: data });
function freshData(): void {
  data = mkdtempSync("/var/tmp/pelagos-data-");
  cleanup.push(data);
}

let big: { ref: string; diffIds: string[]; sums: string[] };
let pair: { a: string; b: string; shared: string; onlyA: string };

beforeAll(async () => {
  if (!ok) return;
  reg = await startRegistry();
  const l = new Layout();
  cleanup.push(l.dir);
  const files = [0, 1, 2].map(() => randomBytes(48 * 1024 * 1024));
  const img = l.image({ layers: files.map((f, i) => ({ entries: [{ name: `big${i}`, data: f }], compression: "none" as const })) });
  await pushRaw(reg, l.dir, "big", "1", img.manifest.digest);
  big = { ref: `${reg.host}/big:1`, diffIds: img.diffIds, sums: files.map((f) => new Bun.CryptoHasher("sha256").update(f).digest("hex")) };
  const shared = { entries: [{ name: "shared", data: "s" }] };
  const a = l.image({ layers: [shared, { entries: [{ name: "a", data: "a" }] }] });
  const b = l.image({ layers: [shared, { entries: [{ name: "b", data: "b" }] }] });
  l.tag("a", [a.manifest]);
  l.tag("b", [b.manifest]);
  await push(l.dir, "a", `${reg.host}/pair-a:1`);
  await push(l.dir, "b", `${reg.host}/pair-b:1`);
  pair = { a: `${reg.host}/pair-a:1`, b: `${reg.host}/pair-b:1`, shared: a.diffIds[0]!, onlyA: a.diffIds[1]! };
});

afterAll(async () => {
  await reg?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

const sha = (p: string) => new Bun.CryptoHasher("sha256").update(readFileSync(p)).digest("hex");

describe.skipIf(!ok)("image store", () => {
  test("a pull killed half-way is repaired by the next pull", async () => {
    freshData();
    const p = Bun.spawn([BIN, "image", "pull", big.ref], { env: { ...process.env, ...env() }, stdout: "ignore", stderr: "ignore" });
    // Kill as soon as a layer is being unpacked into tmp/.
    for (let i = 0; i < 2000; i++) {
      if (existsSync(`${data}/tmp`) && readdirSync(`${data}/tmp`).some((n) => n.startsWith("layer-"))) break;
      await Bun.sleep(2);
    }
    p.kill("SIGKILL");
    await p.exited;
    expect(existsSync(`${data}/images/${encodeURIComponent(big.ref)}.json`)).toBe(false);
    expect(readdirSync(`${data}/tmp`).some((n) => n.startsWith("layer-"))).toBe(true); // really interrupted
    const r = await pelagos(["image", "pull", big.ref], env());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    big.diffIds.forEach((d, i) => expect(sha(`${data}/layers/${d.slice(7)}/root/big${i}`)).toBe(big.sums[i]!));
    expect(readdirSync(`${data}/tmp`)).toEqual([]);
  });

  test("two pulls of the same image at once both succeed and store each layer once", async () => {
    freshData();
    const [r1, r2] = await Promise.all([pelagos(["image", "pull", big.ref], env()), pelagos(["image", "pull", big.ref], env())]);
    expect([r1.code, r2.code, r1.stderr, r2.stderr]).toEqual([0, 0, "", ""]);
    expect(readdirSync(`${data}/layers`).sort()).toEqual(big.diffIds.map((d) => d.slice(7)).sort());
    big.diffIds.forEach((d, i) => expect(sha(`${data}/layers/${d.slice(7)}/root/big${i}`)).toBe(big.sums[i]!));
    expect(readdirSync(`${data}/tmp`)).toEqual([]);
  });

  test("rm frees only unshared layers; tag shares layers; prune", async () => {
    freshData();
    for (const ref of [pair.a, pair.b]) expect((await pelagos(["image", "pull", ref], env())).code).toBe(0);
    expect(readdirSync(`${data}/layers`).length).toBe(3);
    expect((await pelagos(["image", "tag", pair.a, "mine/alias:2"], env())).code).toBe(0);
    let rm = await pelagos(["image", "rm", pair.a], env());
    expect(rm.stderr).toBe("");
    expect(existsSync(`${data}/layers/${pair.onlyA.slice(7)}`)).toBe(true); // still tagged as mine/alias:2
    rm = await pelagos(["image", "rm", "mine/alias:2"], env());
    expect(rm.stdout).toContain("Deleted: 1 layer");
    expect(existsSync(`${data}/layers/${pair.onlyA.slice(7)}`)).toBe(false);
    expect(existsSync(`${data}/layers/${pair.shared.slice(7)}`)).toBe(true);
    const missing = await pelagos(["image", "rm", pair.a], env());
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`Cannot find image "${pair.a}"`);
    const df = JSON.parse((await pelagos(["system", "df", "--format", "json"], env())).stdout);
    expect(df.Layers.Count).toBe(2);
    expect((await pelagos(["image", "prune", "--all"], env())).code).toBe(0);
    expect(readdirSync(`${data}/layers`)).toEqual([]);
    expect(readdirSync(`${data}/blobs/sha256`)).toEqual([]);
    expect(readdirSync(`${data}/locks`).filter((n) => n.startsWith("layer-"))).toEqual([]); // no lock file outlives its layer
  });

  test("prepareImageRootfs and container registration", async () => {
    freshData();
    const saved = process.env.PELAGOS_DATA_DIR;
    process.env.PELAGOS_DATA_DIR = data;
    try {
      const { prepareImageRootfs, registerImageUse, unregisterImageUse } = await import("../../../src/image/index.ts");
      await expect(prepareImageRootfs(pair.a, { pull: "never" })).rejects.toThrow(/--pull=never/);
      const img = await prepareImageRootfs(pair.a, { pull: "missing", quiet: true });
      expect(img.reference).toBe(pair.a);
      expect(img.layers).toEqual([pair.shared, pair.onlyA].map((d) => `${data}/layers/${d.slice(7)}/root`));
      expect(img.config.Cmd).toEqual(["/bin/sh"]);
      expect(img.digest).toMatch(/^sha256:/);
      await registerImageUse("ctr-1", img);
      const refused = await pelagos(["image", "rm", pair.a], env());
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`used by container "ctr-1"`);
      expect((await pelagos(["image", "rm", "-f", pair.a], env())).code).toBe(0);
      expect(existsSync(img.layers[1]!)).toBe(true); // kept while the container uses it
      await unregisterImageUse("ctr-1");
      expect((await pelagos(["image", "prune"], env())).code).toBe(0);
      expect(existsSync(img.layers[1]!)).toBe(false);
      // A deleted layer makes the image incomplete: "missing" pulls again and repairs it.
      const again = await prepareImageRootfs(pair.a, { pull: "missing", quiet: true });
      expect(existsSync(again.layers[1]!)).toBe(true);
      // A layer dir lost while its blob is still stored is rebuilt offline, even with pull "never".
      rmSync(again.layers[1]!.replace(/\/root$/, ""), { recursive: true });
      const offline = await prepareImageRootfs(pair.a, { pull: "never", container: "ctr-2" });
      expect(readFileSync(`${offline.layers[1]!}/a`, "utf8")).toBe("a");
      const busy = await pelagos(["image", "rm", pair.a], env());
      expect(busy.stderr).toContain(`used by container "ctr-2"`);
      await unregisterImageUse("ctr-2");
    } finally {
      if (saved === undefined) delete process.env.PELAGOS_DATA_DIR;
      else process.env.PELAGOS_DATA_DIR = saved;
    }
  });

  test("errors: unknown image, unknown registry port, bad reference", async () => {
    freshData();
    const nf = await pelagos(["image", "pull", `${reg!.host}/nope:1`], env());
    expect(nf.code).not.toBe(0);
    expect(nf.stderr).toContain("not found");
    expect(nf.stderr).not.toContain("    at ");
    const bad = await pelagos(["image", "pull", "a/Upper"], env());
    expect(bad.stderr).toContain("Invalid image reference");
    const down = await pelagos(["image", "pull", "127.0.0.1:1/x:1"], env());
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain(`Cannot connect to registry "127.0.0.1:1"`);
  });
});
