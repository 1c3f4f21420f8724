import { describe, expect, test } from "bun:test";
import * as K from "../../ffi/consts.ts";
import { DEFAULT_CAPS, normalizeCapName, resolveCapabilities } from "./capabilities.ts";

const all = Array.from({ length: 41 }, (_, i) => i);
const noSysResource = all.filter((c) => c !== 24);
const r = (o: Partial<{ add: string[]; drop: string[]; privileged: boolean }>, own = all) =>
  resolveCapabilities({ add: o.add ?? [], drop: o.drop ?? [], privileged: o.privileged ?? false }, own);

describe("capabilities", () => {
  test("names with or without CAP_, any case; ALL; unknown names are errors", () => {
    expect(normalizeCapName("net_admin", "--cap-add")).toBe("CAP_NET_ADMIN");
    expect(normalizeCapName("CAP_Sys_Admin", "--cap-add")).toBe("CAP_SYS_ADMIN");
    expect(normalizeCapName("all", "--cap-drop")).toBe("ALL");
    expect(() => normalizeCapName("NET_BOGUS", "--cap-add")).toThrow('Invalid --cap-add "NET_BOGUS": unknown capability');
  });
  test("the default is docker's 14, in kernel order", () => {
    const d = r({});
    expect(d.length).toBe(14);
    expect(new Set(d)).toEqual(new Set(DEFAULT_CAPS));
    expect(d).toEqual(K.CAPABILITIES.filter((c) => d.includes(c)));
  });
  test("drop first, then add", () => {
    expect(r({ drop: ["ALL"], add: ["net_raw"] })).toEqual(["CAP_NET_RAW"]);
    expect(r({ drop: ["chown"] })).not.toContain("CAP_CHOWN");
    expect(r({ add: ["SYS_ADMIN"] })).toContain("CAP_SYS_ADMIN");
    expect(r({ add: ["chown"], drop: ["chown"] })).toContain("CAP_CHOWN");
  });
  test("ALL and --privileged mean every capability the runtime holds", () => {
    expect(r({ privileged: true }, noSysResource)).toHaveLength(40);
    expect(r({ privileged: true }, noSysResource)).not.toContain("CAP_SYS_RESOURCE");
    expect(r({ add: ["ALL"] }, noSysResource)).toHaveLength(40);
    expect(r({ privileged: true, drop: ["NET_ADMIN"] }, noSysResource)).not.toContain("CAP_NET_ADMIN");
  });
  test("adding a capability the runtime lacks is a clear error", () => {
    expect(() => r({ add: ["SYS_RESOURCE"] }, noSysResource)).toThrow('Cannot add capability "CAP_SYS_RESOURCE"');
  });
});
