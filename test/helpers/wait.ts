/**
 * Polling for asynchronous outcomes (a container reaching a state, a file
 * appearing). Bounded: returns the last value or throws with what was seen, so
 * a test fails with a message instead of hanging until the runner's timeout.
 */

/** Polls `probe` every `intervalMs` until `done(value)`; throws after `timeoutMs` with the last value. */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (value: T) => boolean = Boolean,
  { timeoutMs = 5000, intervalMs = 20 } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (performance.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}: last value ${JSON.stringify(value)}`);
    }
    await Bun.sleep(intervalMs);
  }
}
