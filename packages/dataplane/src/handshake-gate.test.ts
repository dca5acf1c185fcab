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
    expect('release' in gate.admit('10.0.0.1')).toBe(true);
  });
});

describe('rateLimited', () => {
  it('lets a bounded number of lines through per second and reports what it dropped', () => {
    const sample = rateLimited(3);
    const results = Array.from({ length: 10 }, () => sample());
    expect(results.filter((r) => r.pass)).toHaveLength(3);
  });
});
