/**
 * Memory of what stays resident per detached container: pelagos's supervisor
 * (the trampoline in OP_SUPERVISE) vs conmon (podman's monitor; the OCI
 * runtime itself exits after `create`). N idle containers (`sleep 1000`) each;
 * prints RSS and PSS (smaps_rollup) per process and summed.
 *
 *   bun bench/supervisor-memory.ts [N] [--runtime /usr/sbin/runc]
 *
 * Needs root, dist/pelagos, a busybox test rootfs (bun test builds it) and
 * conmon (apt-get install conmon). crun refuses hybrid-cgroup hosts, so the
 * conmon side uses runc there; it makes cgroups named pelagos-bench-cm-N and
 * deletes them (runc delete).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { busyboxRootfs } from "../test/helpers/rootfs.ts";

const n = Number(process.argv[2] ?? 50);
const runtime = process.argv.includes("--runtime") ? process.argv[process.argv.indexOf("--runtime") + 1]! : "/usr/sbin/runc";
const bin = `${import.meta.dir}/../dist/pelagos`;
const work = `/tmp/pelagos-bench-mem-${process.pid}`;

function mem(pid: number): { rss: number; pss: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(t)?.[1] ?? 0);
  return { rss: kb("Rss"), pss: kb("Pss") };
}

function report(what: string, pids: number[]): void {
  const m = pids.map(mem);
  const sum = (k: "rss" | "pss") => m.reduce((a, x) => a + x[k], 0);
  console.log(`${what}: ${pids.length} processes, RSS ${sum("rss")} kB (each ~${Math.round(sum("rss") / pids.length)}), PSS ${sum("pss")} kB (each ~${Math.round(sum("pss") / pids.length)})`);
}

async function sh(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")}: ${await new Response(p.stderr).text()}`);
  return out;
}

const rootfs = await busyboxRootfs();
mkdirSync(work, { recursive: true });
try {
  // pelagos
  const root = `${work}/pelagos-root`;
  await Promise.all(Array.from({ length: n }, (_, i) => sh([bin, "--root", root, "run", "-d", "--rootfs", rootfs, "--name", `m${i}`, "sleep", "1000"])));
  const sup = Array.from({ length: n }, (_, i) => JSON.parse(readFileSync(`${root}/containers/m${i}/state.json`, "utf8")).watcher_pid as number);
  await Bun.sleep(300);
  report("pelagos supervisor", sup);
  await sh([bin, "--root", root, "rm", "-f", ...Array.from({ length: n }, (_, i) => `m${i}`)]);

  // conmon + runtime
  if (!existsSync("/usr/bin/conmon")) console.log("conmon: not installed (apt-get install conmon)");
  else {
    const rroot = `${work}/runc-root`;
    const pids: number[] = [];
    const base = JSON.parse(await sh(["sh", "-c", `cd ${work} && ${runtime} spec && cat config.json && rm config.json`]));
    for (let i = 0; i < n; i++) {
      const b = `${work}/b${i}`;
      mkdirSync(`${b}/exits`, { recursive: true });
      mkdirSync(`${b}/sock`, { recursive: true });
      const c = structuredClone(base);
      c.root = { path: rootfs, readonly: true };
      c.process.terminal = false;
      c.process.args = ["sleep", "1000"];
      c.linux.cgroupsPath = `/pelagos-bench-cm-${process.pid}-${i}`;
      writeFileSync(`${b}/config.json`, JSON.stringify(c));
      await sh(["conmon", "--cid", `cm${i}`, "--cuuid", `cm${i}`, "--name", `cm${i}`, "--runtime", runtime, "--bundle", b,
        "--container-pidfile", `${b}/pid`, "--conmon-pidfile", `${b}/conmon.pid`, "--log-path", `k8s-file:${b}/ctr.log`,
        "--exit-dir", `${b}/exits`, "--socket-dir-path", `${b}/sock`, "--runtime-arg", `--root=${rroot}`]);
      pids.push(Number(readFileSync(`${b}/conmon.pid`, "utf8")));
    }
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < 100 && !existsSync(`${work}/b${i}/pid`); t++) await Bun.sleep(10);
      await sh([runtime, `--root=${rroot}`, "start", `cm${i}`]).catch((e) => console.log(String(e)));
    }
    await Bun.sleep(300);
    report(`conmon (+ ${runtime}, which exits after create)`, pids);
    for (let i = 0; i < n; i++) await sh([runtime, `--root=${rroot}`, "delete", "-f", `cm${i}`]).catch(() => {});
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
