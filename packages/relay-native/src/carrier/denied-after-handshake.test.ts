import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS, type ConnectionReport } from '@switchyard/dataplane';
import { dialOutbound, startPair } from '@switchyard/dataplane/testing';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

/** A connection report as the data plane publishes it: with the workload and carrier named. */
type ConnectionEvent = ConnectionReport & { workload: string; carrier: string };

/** How a plain client's connection ended: a clean end, or the error it saw; and what it was sent. */
function outcome(s: ReturnType<typeof dialOutbound>): Promise<{ ended: string; answer: string }> {
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

describe('mtls-native: a connection the server denies after the TLS handshake, as its client sees it', () => {
  it.each([
    [
      'writes its request and waits for the answer (as an HTTP client does)',
      'GET / HTTP/1.1\r\nHost: server\r\n\r\n',
    ],
    ['writes nothing (a protocol where the server speaks first)', ''],
  ])(
    'the client %s: it is reset, never given a clean empty answer; reported failed, not spliced',
    async (_how, request) => {
      const events: ConnectionEvent[] = [];
      const onEvent = (e: unknown) => events.push(e as ConnectionEvent);
      subscribe(CHANNELS.connection, onEvent);
      // The server allows only a namespace the client is not in: TLS 1.3 completes (the client's
      // certificate is valid), then the server's authorization refuses the peer and closes.
      const p = await startPair({
        carrier: mtlsNativeCarrier,
        pki,
        route: (s) => ({
          address: '127.0.0.1',
          port: s.listeners.find((l) => l.role === 'inbound')?.port ?? 0,
        }),
        inbound: { authorization: { allow: [{ namespace: 'nobody' }] } },
      });
      try {
        const client = dialOutbound(p.outboundPort);
        const seen = outcome(client);
        if (request) client.write(request);
        expect(await seen).toEqual({ ended: 'ECONNRESET', answer: '' });
        client.destroy();
        await expect
          .poll(() => events.find((e) => e.direction === 'outbound' && e.workload === 'client'))
          .toMatchObject({
            carrier: 'mtls-native',
            outcome: 'failed',
            code: 'reset',
            peer: 'spiffe://cluster.local/ns/suite/sa/suite-server',
            down: 0,
          });
        expect(events.find((e) => e.direction === 'inbound')).toMatchObject({
          workload: 'server',
          outcome: 'denied',
          peer: 'spiffe://cluster.local/ns/suite/sa/suite-client',
        });
        expect(events.some((e) => e.outcome === 'spliced')).toBe(false);
        expect(p.app.received()).toBe(0);
        expect(await p.client.metrics.registry.metrics()).toMatch(
          /switchyard_connections_total\{[^}]*direction="outbound",outcome="failed"\} 1/,
        );
      } finally {
        unsubscribe(CHANNELS.connection, onEvent);
        await p.dispose();
      }
    },
  );
});
