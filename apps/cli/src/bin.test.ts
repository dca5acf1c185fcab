import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const bin = resolve(repo, 'apps/cli/dist/bin.js');

describe('the built switchyard binary', () => {
  it('exists (the test command builds before testing)', () => {
    expect(existsSync(bin), `${bin} is missing: run "pnpm build" (./run test does)`).toBe(true);
  });

  it('runs as a process: lists memory and a plugin driver, and exits 2 on a bad policy', async () => {
    const run = promisify(execFile);
    const ok = await run(
      process.execPath,
      [bin, 'drivers', '--driver-module', './examples/driver-plugin', '--json'],
      { cwd: repo },
    );
    expect(JSON.parse(ok.stdout).drivers.map((d: { name: string }) => d.name)).toEqual([
      'files',
      'hns',
      'memory',
      'tproxy',
    ]);
    const bad = await run(process.execPath, [bin, 'policy', 'validate', 'examples/policies/bad.json'], {
      cwd: repo,
    }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in bad && bad.code).toBe(2);
    expect(bad.stderr).toContain('3 problems');
  });

  it('runs as "pnpm exec switchyard" from the repository root with nothing but its own output (| jq works)', async () => {
    const run = promisify(execFile);
    const r = await run('pnpm', ['exec', 'switchyard', 'drivers', '--json'], { cwd: repo });
    expect(JSON.parse(r.stdout).drivers.map((d: { name: string }) => d.name)).toContain('memory');
  });

  it('runs as "./run switchyard" with nothing but its own output, even where pnpm is not on PATH', async () => {
    const path = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('.tools'));
    const r = await promisify(execFile)('./run', ['switchyard', 'drivers', '--json'], {
      cwd: repo,
      env: { ...process.env, PATH: path.join(':') },
    });
    expect(JSON.parse(r.stdout).drivers.map((d: { name: string }) => d.name)).toContain('memory');
  });
});
