import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../util/backoff.js';
import { KeyedQueue } from './keyed-queue.js';

describe('KeyedQueue', () => {
  it('runs one task per key at a time and coalesces what was scheduled meanwhile into one more run', async () => {
    const runs: string[] = [];
    let release: () => void = () => {};
    const queue = new KeyedQueue(async (key) => {
      runs.push(key);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = queue.schedule('a');
    const others = [queue.schedule('a'), queue.schedule('a'), queue.schedule('b')];
    await new Promise((r) => setTimeout(r, 10));
    expect(runs).toEqual(['a', 'b']);
    release();
    await Promise.all([first, ...others]);
    expect(runs).toEqual(['a', 'b', 'a']);
    await queue.idle();
  });
});

describe('backoffDelay', () => {
  it('doubles up to the most, with at most 20% jitter below', () => {
    expect([1, 2, 3, 10].map((n) => backoffDelay(n, 250, 1000, () => 0))).toEqual([250, 500, 1000, 1000]);
    expect(backoffDelay(1, 250, 1000, () => 1)).toBe(200);
  });
});
