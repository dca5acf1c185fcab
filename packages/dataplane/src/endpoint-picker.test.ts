import { describe, expect, it } from 'vitest';
import { OpenConnections, pickEndpoints } from './endpoint-picker.js';

/** A fixed sequence of draws in [0, 1). */
const draws = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('pickEndpoints (power of two choices)', () => {
  it.each([
    ['no candidates', [], {}, [0.1, 0.2], []],
    ['one candidate: itself, no fallback', ['a'], {}, [0.9, 0.9], ['a']],
    ['two, equal load: the first drawn, then the other', ['a', 'b'], {}, [0.9, 0.1], ['b', 'a']],
    ['two: the less loaded first', ['a', 'b'], { b: 3 }, [0.9, 0.1], ['a', 'b']],
    ['three: draws a and c, c less loaded', ['a', 'b', 'c'], { a: 2 }, [0.1, 0.9], ['c', 'a']],
    ['three: the second draw skips the first', ['a', 'b', 'c'], {}, [0.4, 0.6], ['b', 'c']],
    ['a draw of 0.999… stays in range', ['a', 'b', 'c'], {}, [0.9999, 0.9999], ['c', 'b']],
  ] as const)('%s', (_name, candidates, load, random, expected) => {
    const picked = pickEndpoints(
      candidates,
      (c) => (load as Record<string, number>)[c] ?? 0,
      draws(...random),
    );
    expect(picked).toEqual(expected);
  });

  it('spreads over every candidate and favours the idle ones', () => {
    const chosen = new Map<string, number>();
    const load: Record<string, number> = { a: 0, b: 0, c: 50, d: 0 };
    for (let n = 0; n < 4000; n++) {
      const [first] = pickEndpoints(['a', 'b', 'c', 'd'], (c) => load[c] ?? 0);
      chosen.set(first as string, (chosen.get(first as string) ?? 0) + 1);
    }
    for (const c of ['a', 'b', 'd']) expect(chosen.get(c)).toBeGreaterThan(1000);
    // c wins only when drawn twice, which never happens: the draws are distinct.
    expect(chosen.get('c') ?? 0).toBe(0);
  });
});

describe('OpenConnections', () => {
  it('counts per address and port, and a release counts once', () => {
    const open = new OpenConnections();
    const e = { address: '10.0.0.7', port: 8080 };
    const r1 = open.hold(e);
    const r2 = open.hold(e);
    open.hold({ address: '10.0.0.7', port: 9090 });
    expect(open.count(e)).toBe(2);
    r1();
    r1();
    expect(open.count(e)).toBe(1);
    r2();
    expect(open.count(e)).toBe(0);
    expect(open.count({ address: '10.0.0.7', port: 9090 })).toBe(1);
  });
});

describe('a failing endpoint is not taken for an idle one', () => {
  /**
   * `connections` connections, 100 ms apart, to endpoints `good…` and `bad`, as a carrier makes
   * them: held from the attempt; the good ones stay open, the bad one fails at once (released,
   * marked failed). Returns how often `bad` was chosen first.
   */
  function badChosenFirst(candidates: string[], connections: number): number {
    let now = 0;
    const open = new OpenConnections({ now: () => now });
    let bad = 0;
    for (let n = 0; n < connections; n++, now += 100) {
      const [first] = pickEndpoints(candidates, (c) => open.load({ address: c, port: 80 }));
      const release = open.hold({ address: first as string, port: 80 });
      if (first !== 'bad') continue;
      bad += 1;
      release();
      open.failed({ address: 'bad', port: 80 });
    }
    return bad;
  }

  it.each([
    ['one good, one bad', ['good', 'bad']],
    ['three good, one bad', ['g1', 'g2', 'g3', 'bad']],
  ])('%s: the bad one is chosen first at most about half the time', (_name, candidates) => {
    expect(badChosenFirst(candidates, 400)).toBeLessThan(400 / 2);
  });

  it('the penalty ends: a failed endpoint is chosen again once it has passed', () => {
    let now = 0;
    const open = new OpenConnections({ now: () => now, penaltyMs: 5_000 });
    const e = { address: 'a', port: 80 };
    open.failed(e);
    expect(open.load(e)).toBeGreaterThan(1_000);
    now = 4_999;
    expect(open.load(e)).toBeGreaterThan(1_000);
    now = 5_000;
    expect(open.load(e)).toBe(0);
  });
});
