import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './testing/run-cli.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-ca-cli-'));
  expect(
    (await cli('ca', 'init', '--dir', join(scratch, 'ca'), '--trust-domain', 'cluster.local')).code,
  ).toBe(0);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('switchyard ca', () => {
  it('refuses bad validity periods, writing nothing (exit 2)', async () => {
    const dir = join(scratch, 'never');
    for (const days of ['abc', '0', '-5']) {
      const r = await cli('ca', 'init', '--dir', dir, '--trust-domain', 'cluster.local', '--days', days);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--days .*: expected a whole number from 1 to 36500/);
    }
    const hours = await cli(
      'ca',
      'issue',
      '--dir',
      join(scratch, 'ca'),
      '--namespace',
      'web',
      '--service-account',
      'x',
      '--out',
      dir,
      '--hours',
      'abc',
    );
    expect(hours.code).toBe(2);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to replace a CA; --force replaces it and says what it destroyed', async () => {
    const dir = join(scratch, 'ca');
    const again = await cli('ca', 'init', '--dir', dir, '--trust-domain', 'other.local');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a development CA for cluster\.local/);
    const forced = await cli('ca', 'init', '--dir', join(scratch, 'ca2'), '--trust-domain', 'a.local');
    expect(forced.code).toBe(0);
    const r = await cli('ca', 'init', '--dir', join(scratch, 'ca2'), '--trust-domain', 'b.local', '--force');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/destroyed the CA .*trust domain a\.local.*no longer verify/);
  });
});
