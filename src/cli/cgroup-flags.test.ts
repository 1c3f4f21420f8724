import { expect, test } from "bun:test";
import { parseFlags } from "./argv.ts";
import { resourceArgs, resourceFlags } from "./cgroup-flags.ts";

const parse = (argv: string[]) => resourceFlags(parseFlags(argv, resourceArgs));

test("resource flags: docker spellings, short forms, repeated device limits", () => {
  expect(parse([])).toBeUndefined();
  const f = parse(["-m", "1g", "-c", "512", "--cpus=1.5", "--pids-limit", "-1", "--device-read-bps", "/dev/a:1mb", "--device-read-bps", "/dev/b:2mb"])!;
  expect(f.memory).toBe("1g");
  expect(f.cpuShares).toBe(512);
  expect(f.cpus).toBe("1.5");
  expect(f.pidsLimit).toBe(-1);
  expect(f.deviceReadBps).toEqual(["/dev/a:1mb", "/dev/b:2mb"]);
  expect(parse(["--oom-kill-disable"])!.oomKillDisable).toBe(true);
});

test("integer flags refuse non-integers, naming the flag", () => {
  expect(() => parse(["--pids-limit", "ten"])).toThrow('Invalid value "ten" for --pids-limit: expected an integer');
  expect(() => parse(["--cpu-quota", "1.5"])).toThrow("--cpu-quota");
});
