import { describe, expect, test } from "bun:test";
import * as K from "../../ffi/consts.ts";
import { Op } from "../spawn/plan-encode.ts";
import { buildRunConfig } from "./docker-config.ts";
import type { HostFacts } from "./host.ts";
import { planExecIn } from "./join.ts";
import { planLaunch, Ready } from "./launch.ts";

const host: HostFacts = { arch: "x64", lastCap: 40, ownCaps: Array.from({ length: 41 }, (_, i) => i), cgroups: "v2" };
const config = buildRunConfig({
  rootfs: "/tmp", args: ["sh"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] },
  hostname: "h", terminal: false, readOnly: false, network: "loopback", volumes: [], tmpfs: [], labels: {},
});
const proc = { ...config.process!, args: ["ps"], noNewPrivileges: true };
const seccomp = { filter: new Uint8Array(8), flags: 0 };

describe("planExecIn()", () => {
  test("enters the namespaces before the clone, then the init's own restrictions in the init's order", () => {
    const l = planExecIn({ pid: 42, namespaces: K.CLONE_NEWPID | K.CLONE_NEWNS, proc, seccomp, detach: false, host });
    const i = (s: string) => l.steps.findIndex((x) => x.includes(s));
    expect(i("enter the namespaces of process 42")).toBeLessThan(i("create the process"));
    expect(i("create the process")).toBeLessThan(i("enter the container's root"));
    expect(i("drop capabilities")).toBeLessThan(i("set uid"));
    expect(i("set uid")).toBeLessThan(i("set no_new_privs"));
    expect(i("set no_new_privs")).toBeLessThan(i("load the seccomp filter"));
    expect(l.steps.at(-1)).toBe('execute "ps"');
    expect(l.readies).toEqual([]);
    // the trampoline watches pelagos unless detached
    expect(l.steps[0]).toBe("watch the runtime process");
    expect(planExecIn({ pid: 42, namespaces: 0, proc, detach: true, host }).steps[0]).not.toBe("watch the runtime process");
  });

  test("without no_new_privs the filter is loaded before the uid change (it then needs CAP_SYS_ADMIN)", () => {
    const l = planExecIn({ pid: 1, namespaces: 0, proc: { ...proc, noNewPrivileges: false }, seccomp, detach: false, host });
    expect(l.steps.indexOf("load the seccomp filter")).toBeLessThan(l.steps.findIndex((s) => s.startsWith("set uid")));
  });

  test("a terminal is made in the container and sent back before the credentials change", () => {
    const l = planExecIn({ pid: 1, namespaces: 0, proc: { ...proc, terminal: true }, consoleFd: 5, detach: false, host });
    expect(l.readies).toEqual([Ready.CONSOLE]);
    expect(l.steps.indexOf("send the terminal to pelagos")).toBeLessThan(l.steps.findIndex((s) => s.startsWith("set uid")));
    expect(() => planExecIn({ pid: 1, namespaces: 0, proc: { ...proc, terminal: true }, detach: false, host })).toThrow("console");
  });
});

describe("planLaunch() for detached containers and --init", () => {
  const req = { config, rootfs: "/tmp", mode: "run" as const, preserveFds: 0, firstPreservedFd: 5, runtimeHooks: false, host };
  test("the trampoline supervises instead of mirroring the status", () => {
    const supervise = { out: 5, err: 6, dir: 7, control: 8, maxBytes: 1024, maxFiles: 3 };
    const plan = planLaunch({ ...req, supervise }).plan;
    const ops = opCodes(plan);
    expect(ops).toContain(Op.SUPERVISE);
    expect(ops).not.toContain(Op.WAIT_CHILD);
    expect(opCodes(planLaunch(req).plan)).toContain(Op.WAIT_CHILD);
  });
  test("--init forks the program right before its execve, after every restriction", () => {
    const l = planLaunch({ ...req, init: true });
    const ops = opCodes(l.plan);
    expect(ops.indexOf(Op.INIT)).toBe(ops.lastIndexOf(Op.EXEC) - 1);
    expect(l.steps.indexOf("start the init process")).toBeGreaterThan(l.steps.indexOf("close inherited file descriptors"));
  });
});

function opCodes(plan: Uint8Array): number[] {
  const dv = new DataView(plan.buffer, plan.byteOffset);
  return Array.from({ length: dv.getUint32(8, true) }, (_, i) => dv.getUint32(40 + i * 72, true));
}
