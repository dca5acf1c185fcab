import { describe, expect, it } from 'vitest';
import { HandshakeGate } from './handshake-gate.js';
import { rateLimited } from './logger.js';

describe('HandshakeGate', () => {
  it('caps handshakes per source and in all, and frees a slot once per release', () => {
    const gate = new HandshakeGate(3, 2);
    const a1 = gate.admit('10.0.0.1');
    const a2 = gate.admit('10.0.0.1');
    expect(gate.admit('10.0.0.1')).toEqual({ refused: 'pending-per-source' });
    const b1 = gate.admit('10.0.0.2');
    expect(gate.admit('10.0.0.3')).toEqual({ refused: 'pending-limit' });
    expect(gate.pending).toBe(3);
    if (!('release' in a1) || !('release' in a2) || !('release' in b1))
      throw new Error('expected admissions');
    a1.release();
    a1.release();
    expect(gate.pending).toBe(2);
    expect('release' in gate.admit('10.0.0.3')).toBe(true);
  });

  it('once half full, shares the gate among the sources holding handshakes: 20 flooding sources leave room for a newcomer', () => {
    const gate = new HandshakeGate(1024, 128);
    const refusals = new Map<string, number>();
    for (let round = 0; round < 200; round++)
      for (let s = 1; s <= 20; s++) {
        const answer = gate.admit(`10.0.1.${s}`);
        if ('refused' in answer) refusals.set(answer.refused, (refusals.get(answer.refused) ?? 0) + 1);
      }
    // each holds its share of 1024 among 20 holders and one more: 48, 960 in all
    expect(gate.pending).toBe(20 * Math.floor(1024 / 21));
    expect(refusals.get('pending-limit')).toBeUndefined();
    expect('release' in gate.admit('10.0.2.1')).toBe(true);
    expect('release' in gate.admit('10.0.2.2')).toBe(true);
  });

  it('below half full, one source may hold up to its own cap', () => {
    const gate = new HandshakeGate(1024, 128);
    for (let i = 0; i < 128; i++) expect('release' in gate.admit('10.0.0.1')).toBe(true);
    expect(gate.admit('10.0.0.1')).toEqual({ refused: 'pending-per-source' });
  });
});

describe('rateLimited', () => {
  it('lets a bounded number of lines through per second and reports what it dropped', () => {
    const sample = rateLimited(3);
    const results = Array.from({ length: 10 }, () => sample());
    expect(results.filter((r) => r.pass)).toHaveLength(3);
  });
});
