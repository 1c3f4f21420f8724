/**
 * `pelagos stats`: docker's columns from the container's cgroup (CPU %, memory
 * usage/limit, block I/O, pids) and the init's network namespace (/proc/PID/net/dev).
 * CPU % is the cgroup's CPU time over wall time between two samples (100% = one CPU).
 */
import { readFileSync } from "node:fs";
import type { Context } from "../cli/context.ts";
import type { CgroupStats } from "../cgroups/stats.ts";
import { type ContainerRef, findContainer, liveContainers } from "./container-ref.ts";

export type Sample = { at: number; stats: CgroupStats; net: { rx: number; tx: number } };

export type StatsRow = {
  Name: string;
  ID: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
  /** pelagos: the numbers behind the columns */
  Raw: {
    cpuPercent: number;
    cpuUsageUsec: number;
    nrThrottled: number;
    throttledUsec: number;
    memoryUsage: number;
    memoryLimit: number;
    pids: number;
    pidsLimit: number | null;
    netRx: number;
    netTx: number;
    blockRead: number;
    blockWrite: number;
  };
};

/** Sums rx/tx bytes of every interface but lo (the /proc/net/dev format: 16 numbers after "name:"). */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0, tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || name!.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

function hostMemory(): number {
  const m = /MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

function sample(c: ContainerRef): Sample {
  let net = { rx: 0, tx: 0 };
  try {
    if (c.pid > 0) net = parseNetDev(readFileSync(`/proc/${c.pid}/net/dev`, "utf8"));
  } catch {
    /* exited */
  }
  return { at: performance.now(), stats: c.cgroup?.stats() ?? {}, net };
}

/** Human units as docker prints them: "12.3MiB" for memory, "1.2MB" for I/O. */
export function humanBytes(n: number, binary: boolean): string {
  const base = binary ? 1024 : 1000;
  const units = binary ? ["B", "KiB", "MiB", "GiB", "TiB"] : ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= base && i < units.length - 1) {
    n /= base;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1).replace(/\.?0+$/, "")}${units[i]}`;
}

export function statsRow(name: string, a: Sample, b: Sample, memTotal: number): StatsRow {
  const s = b.stats;
  const dt = (b.at - a.at) * 1000; // µs
  const du = (s.cpu?.usageUsec ?? 0) - (a.stats.cpu?.usageUsec ?? 0);
  const cpu = dt > 0 ? Math.max(0, (du / dt) * 100) : 0;
  const usage = s.memory?.usage ?? 0;
  const limit = s.memory?.limit ?? memTotal;
  const pct = limit > 0 ? (usage / limit) * 100 : 0;
  const pids = s.pids?.current ?? 0;
  return {
    Name: name, ID: name,
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${humanBytes(usage, true)} / ${humanBytes(limit, true)}`,
    MemPerc: `${pct.toFixed(2)}%`,
    NetIO: `${humanBytes(b.net.rx, false)} / ${humanBytes(b.net.tx, false)}`,
    BlockIO: `${humanBytes(s.io?.readBytes ?? 0, false)} / ${humanBytes(s.io?.writeBytes ?? 0, false)}`,
    PIDs: String(pids),
    Raw: {
      cpuPercent: Math.round(cpu * 100) / 100, cpuUsageUsec: s.cpu?.usageUsec ?? 0,
      nrThrottled: s.cpu?.nrThrottled ?? 0, throttledUsec: s.cpu?.throttledUsec ?? 0,
      memoryUsage: usage, memoryLimit: limit, pids, pidsLimit: s.pids?.limit ?? null,
      netRx: b.net.rx, netTx: b.net.tx, blockRead: s.io?.readBytes ?? 0, blockWrite: s.io?.writeBytes ?? 0,
    },
  };
}

const COLUMNS: [string, keyof StatsRow][] = [
  ["NAME", "Name"], ["CPU %", "CPUPerc"], ["MEM USAGE / LIMIT", "MemUsage"], ["MEM %", "MemPerc"],
  ["NET I/O", "NetIO"], ["BLOCK I/O", "BlockIO"], ["PIDS", "PIDs"],
];

export function formatTable(rows: StatsRow[]): string {
  const table = [COLUMNS.map((c) => c[0]), ...rows.map((r) => COLUMNS.map((c) => String(r[c[1]])))];
  const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => c.padEnd(w[i]!)).join("   ").trimEnd()).join("\n");
}

export type StatsOptions = { names: string[]; stream: boolean; format: "table" | "json"; intervalMs?: number };

export async function showStats(ctx: Context, o: StatsOptions): Promise<number> {
  const pick = () => (o.names.length > 0 ? o.names.map((n) => findContainer(ctx, n)) : liveContainers(ctx));
  const memTotal = hostMemory();
  const interval = o.intervalMs ?? (o.stream ? 1000 : 500);
  let stop = false;
  const onInt = () => (stop = true);
  process.on("SIGINT", onInt);
  try {
    let prev = new Map<string, Sample>();
    for (const c of pick()) prev.set(c.name, sample(c));
    for (;;) {
      await Bun.sleep(interval);
      const refs = pick();
      const next = new Map<string, Sample>();
      const rows: StatsRow[] = [];
      for (const c of refs) {
        const s = sample(c);
        next.set(c.name, s);
        rows.push(statsRow(c.name, prev.get(c.name) ?? s, s, memTotal));
      }
      if (o.format === "json") for (const r of rows) console.log(JSON.stringify(r));
      else {
        if (o.stream && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
        console.log(formatTable(rows));
      }
      prev = next;
      if (!o.stream || stop) return 0;
    }
  } finally {
    process.off("SIGINT", onInt);
  }
}
