import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrorCode } from '@switchyard/core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildNative } from './build-native.js';
import { programs } from './testing/programs.js';

const readelf = (...args: string[]) => execFileSync('readelf', ['-W', ...args], { encoding: 'utf8' });

describe('buildNative', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each(['cni', 'runtime'] as const)(
    'release %s: a static PIE with full RELRO, stack protector and fortified calls',
    async (which) => {
      const binary = (await programs('release'))[which];
      const header = readelf('-h', '-l', '-d', binary);
      expect(header).toMatch(/Type:\s+DYN/); // position-independent
      expect(header).not.toContain('INTERP'); // no dynamic loader: nothing to find on the host
      expect(header).not.toContain('(NEEDED)');
      expect(header).toContain('GNU_RELRO');
      expect(header).toMatch(/FLAGS.*BIND_NOW|Flags: NOW/);
      const symbols = readelf('-s', binary);
      expect(symbols).toContain('__stack_chk_fail');
      expect(symbols).toContain('__snprintf_chk');
    },
  );

  it('sanitized: linked with AddressSanitizer and UndefinedBehaviorSanitizer', async () => {
    const { cni } = await programs('sanitized');
    const needed = readelf('-d', cni);
    expect(needed).toMatch(/NEEDED.*libasan/);
    expect(needed).toMatch(/NEEDED.*libubsan/);
  });

  it('reports a missing compiler with the fix, and leaves no half-written file', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'swy-cni-build-'));
    dirs.push(outDir);
    const error = await buildNative({ outDir, cc: 'no-such-cc' }).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'SWY_ERR_UNSUPPORTED_PLATFORM')).toBe(true);
    expect((error as Error).message).toContain('the C compiler no-such-cc is not installed');
    expect((error as Error).message).toContain('apt-get install gcc libc6-dev');
    expect(readdirSync(outDir)).toEqual([]);
    expect(existsSync(join(outDir, 'switchyard-cni'))).toBe(false);
  });
});
