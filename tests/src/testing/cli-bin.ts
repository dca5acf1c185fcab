import { resolve } from 'node:path';
import { repoRoot } from '@switchyard/test-kit';

/** The built `switchyard` binary (the test command builds before testing). */
export const bin = resolve(repoRoot, 'apps/cli/dist/bin.js');
