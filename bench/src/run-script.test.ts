import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

it('./run bench writes only the bench to stdout: the build before it goes to stderr (./run bench … | tee keeps the table clean)', () => {
  const stdout = execFileSync(resolve(repo, 'run'), ['bench', '--help'], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 300_000,
  });
  expect(stdout).toMatch(/^usage: pnpm bench \[options\]/);
  expect(stdout).not.toMatch(/turbo|build/);
}, 300_000);
