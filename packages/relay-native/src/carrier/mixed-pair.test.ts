import type { CarrierFactory } from '@switchyard/dataplane';
import { dialOutbound, readAll, sendRandom, startPair } from '@switchyard/dataplane/testing';
import { hboneCarrier } from '@switchyard/hbone';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { mtlsCarrier } from '@switchyard/mtls-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hboneNativeCarrier } from '../hbone/hbone-native-carrier.js';
import { serverThenClient } from '../test-support/watched-pair.js';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

describe('the native carriers and their JavaScript references speak the same wire', () => {
  it.each([
    ['mtls: a native server and a JavaScript client', mtlsNativeCarrier, mtlsCarrier, 'inbound'],
    ['mtls: a JavaScript server and a native client', mtlsCarrier, mtlsNativeCarrier, 'inbound'],
    ['hbone: a native server and a JavaScript client', hboneNativeCarrier, hboneCarrier, 'hbone'],
    ['hbone: a JavaScript server and a native client', hboneCarrier, hboneNativeCarrier, 'hbone'],
  ] as [string, () => CarrierFactory, () => CarrierFactory, string][])(
    '%s carry 4 MiB both ways intact',
    async (_title, server, client, role) => {
      const made: string[] = [];
      // startPair makes the server workload's carrier first, then the client's.
      const both = serverThenClient(server, client);
      const carrier = () => {
        const factory = both();
        made.push(factory.name);
        return factory;
      };
      const p = await startPair({
        carrier,
        pki,
        route: (s) => ({
          address: '127.0.0.1',
          port: s.listeners.find((l) => l.role === role)?.port ?? 0,
        }),
      });
      try {
        expect(made).toEqual([server().name, client().name]);
        const s = dialOutbound(p.outboundPort);
        const echoed = readAll(s);
        const sent = await sendRandom(s, 4 * 1024 * 1024);
        const got = await echoed;
        expect(got.bytes).toBe(4 * 1024 * 1024);
        expect(got.sha256).toBe(sent);
      } finally {
        await p.dispose();
      }
    },
  );
});
