/**
 * The lock of a `pelagos run` name: the lock.ts lock with id run.<name>
 * (<root>/locks/run.<name>.lock). Held while a name is claimed and its first record written, and by a
 * detached start until the hand-over, so `cleanup` never judges a record
 * that is being created.
 */
import { lockSync, tryLock } from "./lock.ts";

export { lockSync, tryLock };

export const nameLockId = (name: string) => `run.${name}`;
