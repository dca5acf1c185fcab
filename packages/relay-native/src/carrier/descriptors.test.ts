import { readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dialOutbound, eventually, startPair } from '@switchyard/dataplane/testing';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

const openDescriptors = () => readdirSync('/proc/self/fd').length;
const CONNECTIONS = 40;

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

describe('mtls-native descriptors', () => {
  it('holds only the engine’s two descriptors per relayed connection in each proxy, and counts every connection', async () => {
    const p = await startPair({
      carrier: () => mtlsNativeCarrier(),
      pki,
      route: (s) => ({
        address: '127.0.0.1',
        port: s.listeners.find((l) => l.role === 'inbound')?.port ?? 0,
      }),
    });
    const clients: Socket[] = [];
    try {
      const before = openDescriptors();
      for (let i = 0; i < CONNECTIONS; i++) {
        const s = dialOutbound(p.outboundPort);
        clients.push(s);
        s.write('x'); // echoed once the connection is through both proxies
        await new Promise((r) => s.once('data', r));
      }
      const active = () => [
        p.client.workload('client')?.active.outbound,
        p.server.workload('server')?.active.inbound,
      ];
      expect(active()).toEqual([CONNECTIONS, CONNECTIONS]);
      // Per connection: the test's client and the app's socket (2), and two in each proxy's engine.
      const perConnection = (openDescriptors() - before) / CONNECTIONS;
      expect(perConnection).toBe(6);
      for (const s of clients) s.end();
      expect(await eventually(() => active().every((n) => n === 0), 5_000)).toBe(true);
      expect(await eventually(() => openDescriptors() <= before, 5_000)).toBe(true);
    } finally {
      for (const s of clients) s.destroy();
      await p.dispose();
    }
  });
});
