import { describe, expect, it } from 'vitest';
import { poolKey, TunnelPools } from './tunnel-pools.js';

interface Conn {
  id: number;
  streams: number;
  closed: boolean;
}

/** A pool of fake connections with room for `limit` tunnels each; `opened` counts what `open` made. */
function pools(limit: number) {
  const made: Conn[] = [];
  const p = new TunnelPools<Conn>(
    (c) => !c.closed && c.streams < limit,
    (c) => {
      c.streams += 1;
    },
  );
  const open = (key: string) => async () => {
    await new Promise((r) => setTimeout(r, 5)); // a handshake takes a while: tunnels pile up meanwhile
    const c = { id: made.length, streams: 0, closed: false };
    made.push(c);
    p.add(key, c);
    return c;
  };
  return { p, made, open };
}

describe('HBONE tunnel pools', () => {
  it('fills connections to their limit and opens one at a time per key, for tunnels asked together', async () => {
    const { p, made, open } = pools(100);
    const got = await Promise.all(Array.from({ length: 250 }, () => p.slot('k', open('k'))));
    expect(made.map((c) => c.streams)).toEqual([100, 100, 50]);
    expect(new Set(got).size).toBe(3);
    expect(p.count).toBe(3);
  });

  it('keeps keys apart, skips pooled connections when asked for a fresh one, forgets removed ones', async () => {
    const { p, made, open } = pools(100);
    const a = await p.slot('a', open('a'));
    expect(await p.slot('a', open('a'))).toBe(a);
    const b = await p.slot('b', open('b'));
    expect(b).not.toBe(a);
    const fresh = await p.slot('a', open('a'), true);
    expect(fresh).not.toBe(a);
    a.closed = true;
    expect(await p.slot('a', open('a'))).toBe(fresh);
    p.remove('a', a);
    p.remove('a', fresh);
    expect(p.count).toBe(1);
    const closed: number[] = [];
    p.clear((c) => closed.push(c.id));
    expect(closed).toEqual([b.id]);
    expect(p.count).toBe(0);
    expect(made).toHaveLength(3);
  });

  it('keys by our identity, the peer and the pinned identities (none pinned is not an empty list)', () => {
    expect(poolKey('spiffe://td/ns/a/sa/x', '10.0.0.1:15008')).toBe(
      'spiffe://td/ns/a/sa/x|10.0.0.1:15008|null',
    );
    expect(poolKey('s', 'p', [])).not.toBe(poolKey('s', 'p'));
    expect(poolKey('s', 'p', ['i'])).toBe('s|p|["i"]');
  });
});
