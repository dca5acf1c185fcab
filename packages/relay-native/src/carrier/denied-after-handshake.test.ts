import type { WorkloadStatus } from '@switchyard/dataplane';
import { dialOutbound } from '@switchyard/dataplane/testing';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { mtlsCarrier } from '@switchyard/mtls-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIT_NOBODY,
  clientEnd,
  dialAndWait,
  serverThenClient,
  watchedPair,
} from '../test-support/watched-pair.js';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

/** The server workload's inbound listener, where the client's carrier dials. */
const toInbound = (s: WorkloadStatus) => ({
  address: '127.0.0.1',
  port: s.listeners.find((l) => l.role === 'inbound')?.port ?? 0,
});

/** Each mTLS carrier as the server of a client on each: a denial must reach every client alike. */
const PAIRS = [
  ['mtls', mtlsCarrier, mtlsCarrier],
  ['mtls-native', mtlsNativeCarrier, mtlsNativeCarrier],
  ['an mtls client of an mtls-native server', mtlsNativeCarrier, mtlsCarrier],
  ['an mtls-native client of an mtls server', mtlsCarrier, mtlsNativeCarrier],
] as const;

describe.each(PAIRS)(
  '%s: a connection the server denies after the TLS handshake, as its client sees it',
  (_pair, server, client) => {
    it.each([
      [
        'writes its request and waits for the answer (as an HTTP client does)',
        'GET / HTTP/1.1\r\nHost: server\r\n\r\n',
      ],
      ['writes nothing (a protocol where the server speaks first)', ''],
    ])(
      'the client %s: it is reset, never given a clean empty answer; reported failed, not spliced',
      async (_how, request) => {
        // The server allows only a namespace the client is not in: TLS 1.3 completes (the client's
        // certificate is valid), then the server's authorization refuses the peer and closes.
        const w = await watchedPair({
          carrier: serverThenClient(server, client),
          pki,
          route: toInbound,
          inbound: ADMIT_NOBODY,
        });
        try {
          expect(await dialAndWait(w.pair.outboundPort, request)).toEqual({
            ended: 'ECONNRESET',
            answer: '',
          });
          await expect
            .poll(() => w.events.find((e) => e.direction === 'outbound'))
            .toMatchObject({
              workload: 'client',
              carrier: client().name,
              outcome: 'failed',
              // The native engine names a TLS end without close_notify `tls-error` (a JavaScript
              // server's denial); the JavaScript carrier, and the engine for a native server's, `reset`.
              code: expect.stringMatching(/^(reset|tls-error)$/),
              peer: 'spiffe://cluster.local/ns/suite/sa/suite-server',
              down: 0,
            });
          expect(w.events.find((e) => e.direction === 'inbound')).toMatchObject({
            workload: 'server',
            outcome: 'denied',
            peer: 'spiffe://cluster.local/ns/suite/sa/suite-client',
          });
          expect(w.events.some((e) => e.outcome === 'spliced')).toBe(false);
          expect(w.pair.app.received()).toBe(0);
          expect(await w.pair.client.metrics.registry.metrics()).toMatch(
            /switchyard_connections_total\{[^}]*direction="outbound",outcome="failed"\} 1/,
          );
        } finally {
          await w.dispose();
        }
      },
    );
  },
);

describe.each(PAIRS)(
  '%s: a client that ends its side first, and a server that closes without a reply',
  (_pair, server, carrier) => {
    it('is a clean end for the client and spliced, not a denial: a server may read and close', async () => {
      const w = await watchedPair({ carrier: serverThenClient(server, carrier), pki, route: toInbound });
      try {
        // The app reads the whole request, then closes without writing a byte.
        w.pair.app.mode = 'sink';
        const app = dialOutbound(w.pair.outboundPort);
        const seen = clientEnd(app);
        app.end('QUIT\r\n');
        await expect.poll(() => w.pair.app.sockets[0]?.readableEnded).toBe(true);
        w.pair.app.sockets[0]?.end();
        expect(await seen).toEqual({ ended: 'end', answer: '' });
        app.destroy();
        await expect
          .poll(() => w.events.find((e) => e.direction === 'outbound'))
          .toMatchObject({ workload: 'client', carrier: carrier().name, outcome: 'spliced', up: 6, down: 0 });
        expect(w.pair.app.received()).toBe(6);
        expect(w.events.some((e) => e.outcome === 'failed' || e.outcome === 'denied')).toBe(false);
      } finally {
        await w.dispose();
      }
    });
  },
);
