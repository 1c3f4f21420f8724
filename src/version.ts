declare const PELAGOS_VERSION: string;
/** Replaced at build time by build.ts (--define); "0.0.0-dev" when run from source. */
export const VERSION: string = typeof PELAGOS_VERSION === "string" ? PELAGOS_VERSION : "0.0.0-dev";
