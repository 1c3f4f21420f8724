/** `pelagos image …`: pull, list, inspect, remove, tag, prune, save, load, login, logout. */
import { defineCommand, lazy } from "./command.ts";

export default defineCommand({
  meta: { name: "image", description: "Manage images" },
  subCommands: {
    pull: lazy(() => import("./image/pull.ts")),
    ls: lazy(() => import("./image/ls.ts")),
    list: lazy(() => import("./image/ls.ts")),
    inspect: lazy(() => import("./image/inspect.ts")),
    rm: lazy(() => import("./image/rm.ts")),
    tag: lazy(() => import("./image/tag.ts")),
    prune: lazy(() => import("./image/prune.ts")),
    save: lazy(() => import("./image/save.ts")),
    load: lazy(() => import("./image/load.ts")),
    login: lazy(() => import("./image/login.ts")),
    logout: lazy(() => import("./image/logout.ts")),
  },
});
