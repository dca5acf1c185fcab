import { resolve } from 'node:path';

/** The repository's root directory (tests read its files and run its commands from there). */
export const repoRoot = resolve(import.meta.dirname, '../../..');
