import { resolve } from 'node:path';
import type { CliIo } from '../io.js';
import { run } from '../program.js';

/** The repository root: tests run the CLI from there, as a user following the README would. */
export const repo = resolve(import.meta.dirname, '../../../..');

/** Runs `switchyard …` in-process and returns its exit code and what it printed. */
export async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd: repo,
    env: {},
  };
  return { code: await run(argv, io), stdout, stderr };
}
