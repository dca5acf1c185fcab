import { hboneCarrier } from '@switchyard/hbone';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIT_NOBODY, dialAndWait, watchedPair } from '../test-support/watched-pair.js';
import { hboneNativeCarrier } from './hbone-native-carrier.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

describe.each([
  ['hbone', hboneCarrier],
  ['hbone-native', hboneNativeCarrier],
] as const)('%s: a CONNECT the server denies, as the client app sees it', (name, carrier) => {
  it.each([
    ['writes its request and waits for the answer', 'GET / HTTP/1.1\r\nHost: server\r\n\r\n'],
    ['writes nothing (a protocol where the server speaks first)', ''],
  ])('the client %s: it is reset, never given a clean empty end', async (_how, request) => {
    // The server allows only a namespace the client is not in: its HBONE answers the CONNECT 403.
    const w = await watchedPair({
      carrier,
      pki,
      route: (s) => ({ address: '127.0.0.1', port: s.listeners.find((l) => l.role === 'hbone')?.port ?? 0 }),
      inbound: ADMIT_NOBODY,
    });
    try {
      expect(await dialAndWait(w.pair.outboundPort, request)).toEqual({ ended: 'ECONNRESET', answer: '' });
      await expect
        .poll(() => w.events.find((e) => e.direction === 'outbound' && e.carrier === name))
        .toMatchObject({ workload: 'client', outcome: 'failed', code: 'status-4xx' });
      expect(w.events.find((e) => e.direction === 'inbound' && e.carrier === name)).toMatchObject({
        workload: 'server',
        outcome: 'denied',
      });
      expect(w.events.some((e) => e.outcome === 'spliced')).toBe(false);
      expect(w.pair.app.received()).toBe(0);
    } finally {
      await w.dispose();
    }
  });
});
