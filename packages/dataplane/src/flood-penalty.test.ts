import { describe, expect, it } from 'vitest';
import { FloodPenalty } from './flood-penalty.js';

describe('the hold-off of sources that flood', () => {
  it('holds a source 1 s, doubling with each flood up to 30 s, and forgets it after a quiet minute', () => {
    const penalty = new FloodPenalty();
    penalty.strike('10.0.0.1', 0);
    expect(penalty.heldOff('10.0.0.1', 0)).toBe(1_000);
    expect(penalty.heldOff('::ffff:10.0.0.1', 500)).toBe(500); // the same source, IPv4-mapped
    expect(penalty.heldOff('10.0.0.2', 0)).toBe(0);
    penalty.strike('10.0.0.1', 1_000);
    expect(penalty.heldOff('10.0.0.1', 1_000)).toBe(2_000);
    for (let t = 2_000; t < 10_000; t += 1_000) penalty.strike('10.0.0.1', t);
    expect(penalty.heldOff('10.0.0.1', 9_000)).toBe(30_000);
    penalty.strike('10.0.0.1', 9_000 + 60_000);
    expect(penalty.heldOff('10.0.0.1', 69_000)).toBe(1_000);
  });
});
