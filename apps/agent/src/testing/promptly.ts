import { expect } from 'vitest';

/**
 * How long a test waits for a change the agent makes on an event (a watch, a file change, a
 * Docker event). It is no latency claim (benchmarks measure latency): it is long enough for a
 * loaded 2-core machine, and shorter than the resync interval those tests configure, so a pass
 * still proves the event path did it and not the periodic resync.
 */
export const PROMPTLY_MS = 20_000;

/** Waits until `check` returns `expected` (compared with toEqual), polling up to {@link PROMPTLY_MS}. */
export async function promptly<T>(check: () => T | Promise<T>, expected: T, interval = 50): Promise<void> {
  await expect.poll(check, { timeout: PROMPTLY_MS, interval }).toEqual(expected);
}
