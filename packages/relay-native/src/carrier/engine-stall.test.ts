import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, jsonLogger, startAdminServer } from '@switchyard/dataplane';
import { eventually, LOCAL, startApp } from '@switchyard/dataplane/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from '../relay-engine.js';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
};
const sample = (metrics: string, name: string) =>
  Number(
    metrics
      .split('\n')
      .find((l) => l.startsWith(`${name}{`))
      ?.split(' ')
      .pop() ?? 0,
  );

describe('a stalled engine thread', () => {
  it('is logged, counted, and makes /readyz answer 503 until it turns again', async () => {
    const engine = createRelayEngine({ threads: 2, stallThresholdMs: 600 });
    const lines: string[] = [];
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: jsonLogger({ write: (line) => void lines.push(line) }),
    });
    const app = await startApp();
    const identity = await CertificateStore.open(await pki.issue('stall', 'suite'), { watch: false });
    await plane.addWorkload({
      id: 'server',
      identity,
      carrier: mtlsNativeCarrier({ engine }),
      policy: { inbound: { port: 0, host: LOCAL, fixedDestination: { address: LOCAL, port: app.port } } },
    });
    const admin = await startAdminServer(plane, { port: 0 });
    try {
      expect(await get(admin.port, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
      engine.stallForTesting(1, 3_000);
      expect(await eventually(async () => (await get(admin.port, '/readyz')).status === 503, 2_500)).toBe(
        true,
      );
      expect((await get(admin.port, '/healthz')).status).toBe(200); // the process runs: ready, not alive, is what fails
      expect(engine.stalledThreads).toEqual([1]);
      const during = await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text();
      expect(sample(during, 'switchyard_engine_thread_stalls_total')).toBe(1);
      expect(sample(during, 'switchyard_engine_threads_stalled')).toBe(1);
      expect(lines.some((l) => l.includes('engine thread stalled') && l.includes('"thread":1'))).toBe(true);
      // it turns again when the stall ends: ready again, the gauge back to 0, the stall still counted
      expect(await eventually(async () => (await get(admin.port, '/readyz')).status === 200, 5_000)).toBe(
        true,
      );
      const after = await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text();
      expect(sample(after, 'switchyard_engine_threads_stalled')).toBe(0);
      expect(sample(after, 'switchyard_engine_thread_stalls_total')).toBe(1);
      expect(lines.some((l) => l.includes('engine thread turns again'))).toBe(true);
    } finally {
      await admin.close();
      await plane.close(0);
      engine.close();
      identity.close();
      await app.close();
    }
  }, 20_000);
});
