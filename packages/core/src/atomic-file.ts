import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Mode of a private key file: readable by its owner only. */
export const KEY_FILE_MODE = 0o600;
/** Mode of a certificate file. */
export const CERT_FILE_MODE = 0o644;

/**
 * Writes a file so a reader (or a crash) sees the old content or the new, never half of either:
 * a temporary file in the same directory, created with `mode` (so a key is never readable by
 * others, not even for a moment), flushed to disk, then renamed over the target.
 * Written by hand because it is these few `node:fs` calls; a library would add a dependency for them.
 */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(content);
      await file.chmod(mode); // open() applies the umask; the mode must hold whatever it is
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Mode of a state file (a journal, a record of applied policies): readable by its owner only. */
export const STATE_FILE_MODE = 0o600;

/** Writes `value` as JSON with {@link writeFileAtomic}: the one way Switchyard saves a state file. */
export function writeJsonAtomic(path: string, value: unknown, mode = STATE_FILE_MODE): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}
