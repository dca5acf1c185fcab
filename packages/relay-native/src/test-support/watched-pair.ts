// A carrier pair on loopback whose connection reports are collected, and a client that records
// how its connection ended: for tests of what a client app sees when the far side ends it.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { type CarrierFactory, CHANNELS, type ConnectionReport } from '@switchyard/dataplane';
import { type CarrierPair, dialOutbound, type PairOptions, startPair } from '@switchyard/dataplane/testing';

/** A connection report as the data plane publishes it: with the workload and carrier named. */
export type ConnectionEvent = ConnectionReport & { workload: string; carrier: string };

/** A started pair, the reports published while it runs, and how to stop both. */
export interface WatchedPair {
  pair: CarrierPair;
  events: ConnectionEvent[];
  dispose(): Promise<void>;
}

/** Starts a pair (see `startPair`) and collects every connection report until `dispose`. */
export async function watchedPair(o: PairOptions): Promise<WatchedPair> {
  const events: ConnectionEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as ConnectionEvent);
  subscribe(CHANNELS.connection, onEvent);
  let pair: CarrierPair;
  try {
    pair = await startPair(o);
  } catch (error) {
    unsubscribe(CHANNELS.connection, onEvent);
    throw error;
  }
  return {
    pair,
    events,
    async dispose() {
      unsubscribe(CHANNELS.connection, onEvent);
      await pair.dispose();
    },
  };
}

/** How a plain client's connection ended: `end` (clean), `close`, or its error's code; and what it read. */
export function clientEnd(s: Socket): Promise<{ ended: string; answer: string }> {
  let answer = '';
  s.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  return new Promise((resolve) => {
    s.once('end', () => resolve({ ended: 'end', answer }));
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ ended: e.code ?? e.message, answer }));
    s.once('close', () => resolve({ ended: 'close', answer }));
  });
}

/** Dials the client workload's outbound port, writes `request` (if any), and waits for its end. */
export async function dialAndWait(
  outboundPort: number,
  request: string,
): Promise<{ ended: string; answer: string }> {
  const client = dialOutbound(outboundPort);
  const seen = clientEnd(client);
  if (request) client.write(request);
  const result = await seen;
  client.destroy();
  return result;
}

/** An inbound policy that admits only a namespace no test peer is in: every peer is denied. */
export const ADMIT_NOBODY = { authorization: { allow: [{ namespace: 'nobody' }] } };

/**
 * One carrier for `startPair` that is `server` for the first workload it makes (the server's) and
 * `client` for the second: a pair of two different carriers.
 */
export function serverThenClient(
  server: () => CarrierFactory,
  client: () => CarrierFactory,
): () => CarrierFactory {
  let made = 0;
  return () => (made++ === 0 ? server() : client());
}
