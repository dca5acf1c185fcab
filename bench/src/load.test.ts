import { afterEach, describe, expect, it } from 'vitest';
import { bulkThroughput, connectionRate, idleConnections, roundTrips, startSink } from './load.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('built-in load against the sink on loopback', () => {
  it('measures bulk throughput, round trips, connection rate and idle connections', async () => {
    const sink = await startSink();
    close = sink.close;
    const bps = await bulkThroughput(sink.port, 2, 0.3);
    expect(bps).toBeGreaterThan(1e6);
    const rtts = await roundTrips(sink.port, 50);
    expect(rtts).toHaveLength(50);
    expect(Math.min(...rtts)).toBeGreaterThan(0);
    const rate = await connectionRate(sink.port, 0.3, 2);
    expect(rate.perSecond).toBeGreaterThan(10);
    expect(rate.connections).toBeGreaterThan(3);
    const idle = await idleConnections(sink.port, 300);
    expect(idle.opened).toBe(300);
    idle.close();
  });
});
