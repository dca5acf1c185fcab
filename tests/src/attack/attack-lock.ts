import { mkdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One attack at a time on this machine, across test files (vitest runs files in parallel). */
const LOCK = join(tmpdir(), 'switchyard-attack.lock');
/**
 * The timeout of one attack test: its own minute, and the turns it may wait behind other suites'
 * attacks ({@link oneAttackAtATime}).
 */
export const ATTACK_TEST_TIMEOUT_MS = 240_000;

/** A lock older than this was left by a process that died: taken over. */
const STALE_MS = 180_000;

/**
 * Runs `attack` while no other attack of the suites runs on this machine: two CPU-bound attacks
 * side by side on a 2-core host would each measure the other, not the proxy. The lock is a
 * directory (mkdir is atomic), removed when `attack` settles.
 */
export async function oneAttackAtATime<T>(attack: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      const made = await stat(LOCK).then(
        (s) => s.mtimeMs,
        () => Date.now(),
      );
      if (Date.now() - made > STALE_MS) await rmdir(LOCK).catch(() => undefined);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await attack();
  } finally {
    await rmdir(LOCK).catch(() => undefined);
  }
}
