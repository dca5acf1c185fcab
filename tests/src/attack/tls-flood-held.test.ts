import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { TLS_RECORD_LIMITS } from '@switchyard/dataplane';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { repoRoot as repo } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { expectHeld, holdBeside } from './held.js';
import { sample } from './report.js';
import { expectReset, FLOODERS, flood } from './tls-flood.js';

const run = promisify(execFile);
/** Stops one thread of a process with ptrace(2), the others running on. */
const STOP_THREAD = resolve(repo, 'tests/attack/stop_thread.py');

// TLS 1.3 floods after an authenticated handshake (issue 26, item 3), held for 10 s against
// `switchyard proxy mtls` on each engine and `switchyard proxy hbone`, all started through the
// CLI, while Go's standard library keeps an established connection pinged every 100 ms and opens
// a new one every 500 ms; the same peer's control run, alone, comes first in every test.
describePrivileged('TLS 1.3 floods after the handshake, held for seconds', () => {
  describe.each([
    ['mtls', 'js'],
    ['mtls', 'native'],
    ['hbone', 'js'],
  ] as const)('proxy %s --engine %s', (kind, engine) => {
    let lab: AttackLab;
    const floods = async (reason: string) =>
      sample(await lab.metrics(), 'switchyard_tls_floods_total', `reason="${reason}"`);
    beforeAll(async () => {
      lab = await startAttackLab(kind, async () => undefined, { engine, light: true });
    }, 120_000);
    afterAll(async () => {
      await lab?.close();
    });

    it('KeyUpdates, each followed by a data byte, reset at the limit and counted', async () => {
      const before = await floods('key-updates');
      const held = await holdBeside(lab, () => flood(lab, kind, 'keyupdate-data'));
      expectHeld(lab, `${kind} --engine ${engine}: KeyUpdate + 1 byte, ${FLOODERS} connections`, held);
      const result = held.result;
      expectReset(result, (await floods('key-updates')) - before);
      // What one connection wrote before it saw its reset: the limit (the tests beside the guards
      // prove the 33rd resets), and what the socket buffers took meanwhile; without the limit a
      // connection writes on for the whole 10 s (tens of thousands).
      expect(result.most_key_updates_one_connection).toBeLessThan(16_384);
      // Each flood earns the source the abuse penalty: most reconnections are refused at accept.
      expect(result.failed_connections).toBeGreaterThan(result.connections);
    }, 120_000);

    it('empty records, each followed by a data byte, reset within the burst and counted', async () => {
      const before = await floods('empty-records');
      const held = await holdBeside(lab, () => flood(lab, kind, 'empty-data'));
      expectHeld(lab, `${kind} --engine ${engine}: empty record + 1 byte, ${FLOODERS} connections`, held);
      const result = held.result;
      expectReset(result, (await floods('empty-records')) - before);
      // Each flood earns the source the abuse penalty: most reconnections are refused at accept.
      expect(result.failed_connections).toBeGreaterThan(result.connections);
      expect(result.records / result.connections).toBeLessThan(TLS_RECORD_LIMITS.emptyRecordBurst * 64);
    }, 120_000);

    // Records that carry data are traffic, not a flood: each connection gets a bounded share of a
    // turn (the engine's per-turn budget; on the JavaScript mTLS carrier, the records the stream
    // under TLS hands on a turn; HBONE in JavaScript reads them in Node's HTTP/2, natively).
    it('1-byte records from 4 connections do not starve the others', async () => {
      const held = await holdBeside(lab, () => flood(lab, kind, 'tiny'));
      expectHeld(lab, `${kind} --engine ${engine}: 1-byte records, ${FLOODERS} connections`, held);
      expect(held.result.records).toBeGreaterThan(10_000);
      // data, however small, is not a flood: no connection was reset for it
      expect(held.result.closed_by_server).toBe(0);
    }, 120_000);

    // Only the native engine has threads of its own to stall.
    if (engine === 'native')
      it('an engine thread stopped for 8 s turns /readyz to 503, counted, and back when it runs', async () => {
        const readyz = () =>
          lab.lab.run(
            lab.lab.b.name,
            ...['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}'],
            `http://127.0.0.1:${lab.adminPort}/readyz`,
          );
        const stalls = async () => sample(await lab.metrics(), 'switchyard_engine_thread_stalls_total');
        const before = await stalls();
        expect(readyz()).toBe('200');
        const stopped = run('/usr/bin/python3', [STOP_THREAD, `${lab.pid}`, 'swy-engine-0', '8'], {
          timeout: 30_000,
        });
        const seen: string[] = [];
        for (const until = Date.now() + 7_500; Date.now() < until && seen.at(-1) !== '503'; ) {
          await new Promise((r) => setTimeout(r, 250));
          seen.push(readyz());
        }
        expect(seen.at(-1), `/readyz while the thread is stopped: ${seen.join(' ')}`).toBe('503');
        expect(await stalls()).toBe(before + 1);
        expect(sample(await lab.metrics(), 'switchyard_engine_threads_stalled')).toBe(1);
        expect(JSON.parse((await stopped).stdout)).toMatchObject({ stopped_s: expect.any(Number) });
        for (const until = Date.now() + 5_000; Date.now() < until && readyz() !== '200'; )
          await new Promise((r) => setTimeout(r, 250));
        expect(readyz()).toBe('200');
        expect(sample(await lab.metrics(), 'switchyard_engine_threads_stalled')).toBe(0);
      }, 60_000);
  });
});
