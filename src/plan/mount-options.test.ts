import { describe, expect, test } from "bun:test";
import * as K from "../../ffi/consts.ts";
import { parseMountOptions } from "./mount-options.ts";

describe("parseMountOptions()", () => {
  test("splits attributes from filesystem data", () => {
    const o = parseMountOptions(["nosuid", "noexec", "nodev", "mode=1777", "size=65536k", "newinstance"], "m");
    expect(o.set).toBe(K.MOUNT_ATTR_NOSUID | K.MOUNT_ATTR_NOEXEC | K.MOUNT_ATTR_NODEV);
    expect(o.data).toEqual([["mode", "1777"], ["size", "65536k"], ["newinstance", null]]);
    expect(o.bind).toBe(false);
  });
  test("rbind is a recursive bind; ro then rw clears", () => {
    const o = parseMountOptions(["rbind", "ro", "rw"], "m");
    expect(o.bind && o.recursive).toBe(true);
    expect(o.set & K.MOUNT_ATTR_RDONLY).toBe(0);
    expect(o.clr & K.MOUNT_ATTR_RDONLY).toBe(K.MOUNT_ATTR_RDONLY);
  });
  test("propagation flags, recursive with the r prefix", () => {
    expect(parseMountOptions(["rslave"], "m")).toMatchObject({ propagation: K.MS_SLAVE, propagationRecursive: true });
    expect(parseMountOptions(["private"], "m")).toMatchObject({ propagation: K.MS_PRIVATE, propagationRecursive: false });
  });
  test("conflicting propagation is rejected with its path", () => {
    expect(() => parseMountOptions(["shared", "private"], "mounts[3].options")).toThrow("mounts[3].options[1]");
  });
  test("atime options replace each other", () => {
    const o = parseMountOptions(["noatime", "strictatime"], "m");
    expect(o.set & K.MOUNT_ATTR__ATIME).toBe(K.MOUNT_ATTR_STRICTATIME);
  });
});
