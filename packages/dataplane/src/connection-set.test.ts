import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { StandIn } from './carrier.js';
import { ConnectionSet } from './connection-set.js';

/** A stand-in that records whether it was reset. */
function standInFor(): StandIn & { reset: boolean } {
  const listeners: (() => void)[] = [];
  const s = {
    destroyed: false,
    reset: false,
    once: (_e: 'close', l: () => void) => listeners.push(l),
    destroy() {
      if (s.destroyed) return;
      s.destroyed = true;
      for (const l of listeners.splice(0)) l();
    },
    resetAndDestroy() {
      s.reset = true;
      s.destroy();
    },
  };
  return s;
}

const closed = (s: Socket) => new Promise((r) => s.once('close', r));

describe('ConnectionSet.replace', () => {
  it('moves a counted connection to a stand-in: the old socket closing releases nothing, the stand-in closing does', async () => {
    const changes: number[] = [];
    const set = new ConnectionSet((_d, delta) => changes.push(delta));
    const accepted = new Socket();
    const standIn = standInFor();
    set.add(accepted, 'outbound');
    expect(set.replace(accepted, standIn)).toBe(true);
    accepted.destroy();
    await closed(accepted);
    expect(set.counts.outbound).toBe(1);
    expect(set.size).toBe(1);
    const settled = set.settle(5_000);
    standIn.destroy();
    expect(await settled).toBe(true);
    expect(set.counts.outbound).toBe(0);
    expect(changes).toEqual([1, -1]);
  });

  it('resets the stand-in at a drain deadline', async () => {
    const set = new ConnectionSet(() => undefined);
    const accepted = new Socket();
    const standIn = standInFor();
    set.add(accepted, 'inbound');
    set.replace(accepted, standIn);
    expect(set.resetAll()).toBe(1);
    expect(standIn.reset).toBe(true);
    expect(set.counts.inbound).toBe(0);
    accepted.destroy();
  });

  it('holds nothing for a socket that already closed', async () => {
    const set = new ConnectionSet(() => undefined);
    const accepted = new Socket();
    set.add(accepted, 'inbound');
    accepted.destroy();
    await closed(accepted);
    expect(set.replace(accepted, standInFor())).toBe(false);
    expect(set.size).toBe(0);
  });
});
