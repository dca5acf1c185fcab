import { describe, expect, it } from 'vitest';
import { helpText, parseOptions } from './options.js';

const names = ['direct', 'mtls', 'haproxy-mtls'];

describe('bench options', () => {
  it('takes --only with = or as a separate word, and the flags', () => {
    expect(parseOptions(['--only', 'mtls,direct', '--quick'], names)).toEqual({
      ok: true,
      options: { quick: true, profile: false, help: false, only: ['mtls', 'direct'] },
    });
    expect(parseOptions(['--only=mtls', '--idle=1000,9000'], names)).toMatchObject({
      ok: true,
      options: { only: ['mtls'], idle: [1000, 9000] },
    });
  });

  it('refuses unknown options, unknown scenarios and bad values instead of starting a full run', () => {
    expect(parseOptions(['--qiuck'], names)).toEqual({ ok: false, error: 'unknown option: --qiuck' });
    expect(parseOptions(['--only', 'mtsl'], names)).toEqual({
      ok: false,
      error: 'unknown scenario(s): mtsl',
    });
    expect(parseOptions(['--only'], names)).toMatchObject({ ok: false });
    expect(parseOptions(['--idle=-1'], names)).toMatchObject({ ok: false });
    expect(parseOptions(['mtls'], names)).toEqual({ ok: false, error: 'unknown option: mtls' });
  });

  it('lists every option and scenario in the help', () => {
    const help = helpText(names);
    for (const word of ['--quick', '--only', '--idle', '--profile', '--help', 'haproxy-mtls'])
      expect(help).toContain(word);
  });
});
