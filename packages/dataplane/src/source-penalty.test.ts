import { describe, expect, it } from 'vitest';
import { SourcePenalty } from './source-penalty.js';

describe('SourcePenalty', () => {
  const options = { firstMs: 1_000, maxMs: 8_000, maxSources: 2 };

  it('refuses a source for a penalty that doubles per strike up to the cap, and only it', () => {
    const p = new SourcePenalty(options);
    expect(p.strike('10.0.0.1', 0)).toBe(1_000);
    expect(p.refused('10.0.0.1', 999)).toBe(true);
    expect(p.refused('10.0.0.2', 999)).toBe(false);
    expect(p.refused('10.0.0.1', 1_000)).toBe(false);
    expect([1_500, 3_000, 7_000, 20_000].map((t) => p.strike('10.0.0.1', t))).toEqual([
      2_000, 4_000, 8_000, 8_000,
    ]);
  });

  it('starts again from the first penalty after a source behaved for twice its last one', () => {
    const p = new SourcePenalty(options);
    p.strike('10.0.0.1', 0);
    expect(p.strike('10.0.0.1', 1_000 + 2_000)).toBe(1_000);
  });

  it('remembers a bounded number of sources, forgetting the oldest', () => {
    const p = new SourcePenalty(options);
    for (const s of ['a', 'b', 'c']) p.strike(s, 0);
    expect(['a', 'b', 'c'].map((s) => p.refused(s, 1))).toEqual([false, true, true]);
  });
});
