import { TLS_RECORD_LIMITS } from '@switchyard/dataplane';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { ATTACK_TEST_TIMEOUT_MS } from './attack-lock.js';
import { expectHeld, holdBeside } from './held.js';
import { DOWNLOAD_BYTES, DOWNLOAD_PORT } from './lab-app.js';
import { sample } from './report.js';
import { expectReset, FLOODERS, flood } from './tls-flood.js';

// TLS 1.3 floods after an authenticated handshake, and a drain, against `switchyard proxy hbone
// --carrier hbone-native` started through the CLI, each flood held for 10 s from a second
// namespace while Go's net/http keeps an established tunnel pinged every 100 ms and opens a new
// tunnel every 500 ms; the same peer's control run, alone, comes first in every test.
describePrivileged('switchyard proxy hbone --carrier hbone-native, TLS floods and a drain', () => {
  let lab: AttackLab;
  const floods = async (reason: string) =>
    sample(await lab.metrics(), 'switchyard_tls_floods_total', `reason="${reason}"`);
  beforeAll(async () => {
    lab = await startAttackLab('hbone', async () => undefined, { carrier: 'hbone-native', light: true });
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it(
    'KeyUpdates, each followed by a data byte, reset at the limit and counted',
    async () => {
      const before = await floods('key-updates');
      const held = await holdBeside(lab, () => flood(lab, 'hbone', 'keyupdate-data'));
      expectHeld(lab, `hbone-native: KeyUpdate + 1 byte, ${FLOODERS} connections`, held);
      expectReset(held.result, (await floods('key-updates')) - before);
      expect(held.result.most_key_updates_one_connection).toBeLessThan(16_384);
      expect(held.cpuSeconds).toBeLessThan(held.seconds);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  it(
    'empty records, each followed by a data byte, from reconnecting flooders: reset and counted',
    async () => {
      const before = await floods('empty-records');
      const held = await holdBeside(lab, () => flood(lab, 'hbone', 'empty-data'));
      expectHeld(lab, `hbone-native: empty record + 1 byte, ${FLOODERS} connections`, held);
      expectReset(held.result, (await floods('empty-records')) - before);
      expect(held.result.records / held.result.connections).toBeLessThan(
        TLS_RECORD_LIMITS.emptyRecordBurst * 64,
      );
      expect(held.cpuSeconds).toBeLessThan(held.seconds);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  it(
    '1-byte records from 4 connections do not starve the others',
    async () => {
      const held = await holdBeside(lab, () => flood(lab, 'hbone', 'tiny'));
      expectHeld(lab, `hbone-native: 1-byte records, ${FLOODERS} connections`, held);
      expect(held.result.records).toBeGreaterThan(10_000);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  // Last: it stops the proxy. Go's net/http reads on after a GOAWAY (python3-h2 cannot).
  it('the client of a download cut at the drain deadline reads a reset, not an end', async () => {
    const at = `${lab.lab.b.v4}:${DOWNLOAD_PORT}`;
    const download = lab.go('download', `${lab.target.host}:${lab.target.port}`, lab.certs.peer, at);
    await new Promise((r) => setTimeout(r, 1_500));
    await lab.terminate();
    const result = (await download) as { bytes: number; end: string };
    console.log(`drain, proxy hbone --carrier hbone-native: ${JSON.stringify(result)}`);
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.bytes).toBeLessThan(DOWNLOAD_BYTES);
    expect(result.end).toMatch(/^reset: /);
  }, 60_000);
});
