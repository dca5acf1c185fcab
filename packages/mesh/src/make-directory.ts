import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputInvalidError } from '@switchyard/core';

/**
 * Creates `dir` and its missing parents, one at a time. Written out rather than
 * `mkdir(dir, { recursive: true })`: Node's recursive mkdir never returns for a path under
 * /proc (`/proc/x`), and reports a file in the way as an internal EEXIST. Here both are bad
 * input with a message: a file where a directory should be, or a place nothing can be created.
 *
 * @throws InputInvalidError naming the path and why.
 */
export async function makeDirectory(dir: string, what: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const found = await stat(at).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : e));
    if (found instanceof Error)
      throw new InputInvalidError(`cannot use ${at} for ${what}: ${found.code ?? found.message}`, {
        cause: found,
      });
    if (found) {
      if (!found.isDirectory())
        throw new InputInvalidError(`${at} is a file, not a directory; give ${what} a directory`);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const path of missing)
    await mkdir(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') return; // made meanwhile by someone else: fine
      throw new InputInvalidError(
        `cannot create ${path} for ${what} (${e.code ?? e.message}); choose a directory you can write`,
        { cause: e },
      );
    });
}
