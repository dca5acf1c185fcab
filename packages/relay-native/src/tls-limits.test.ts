import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TLS_RECORD_LIMITS } from '@switchyard/dataplane/carrier';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import type { RelayResult } from './relay-result.js';
import { credentials, fixture, pausedServer, socketPair } from './test-support/loopback.js';

const run = promisify(execFile);
/** TLS 1.3 records written by hand after Python's ssl handshake (Debian's OpenSSL): see the script. */
const RECORDS = fileURLToPath(new URL('../../dataplane/interop/tls13_records.py', import.meta.url));

// The python client's certificate directory: the fixture client, trusted by the engine's CA.
const certDir = mkdtempSync(join(tmpdir(), 'swy-tls-limits-'));
writeFileSync(join(certDir, 'cert-chain.pem'), fixture('client.pem'));
writeFileSync(join(certDir, 'key.pem'), fixture('client-key.pem'));

describe('what a TLS peer may send after the handshake, in the engine', () => {
  const engine = createRelayEngine({ threads: 1, tlsLimits: TLS_RECORD_LIMITS });
  const context = engine.createTlsContext(credentials('server'));
  afterAll(() => {
    engine.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  /** One connection from the python client in `mode`; the engine relays it to an echo socket. */
  async function attack(
    mode: string,
    seconds = 0,
  ): Promise<{ python: Record<string, unknown>; relay: RelayResult }> {
    const listener = await pausedServer();
    const python = run(
      '/usr/bin/python3',
      [RECORDS, '127.0.0.1', `${listener.port}`, certDir, mode, `${seconds}`],
      {
        timeout: 30_000,
      },
    );
    const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: context });
    listener.server.close();
    if (!peer.ok) throw new Error(`handshake: ${peer.reason} ${peer.detail}`);
    const app = await socketPair();
    app.outside.on('error', () => undefined);
    app.outside.pipe(app.outside); // the app echoes
    const relay = await peer.accept(app.inside);
    return { python: JSON.parse((await python).stdout), relay };
  }

  it('relays data after KeyUpdates up to the limit: the records are right, the key schedule too', async () => {
    const under = TLS_RECORD_LIMITS.keyUpdatesPerMinute;
    const { python, relay } = await attack(`echo:${under}`);
    expect(python).toEqual({ key_updates: under, echoed: `after ${under} key updates\n` });
    expect(relay.reason).not.toBe('tls-flood'); // python's ssl closes without close_notify: tls-error
  }, 30_000);

  it('resets a peer at the first KeyUpdate over the limit, before any data behind it reaches the app', async () => {
    const over = TLS_RECORD_LIMITS.keyUpdatesPerMinute + 1;
    const { python, relay } = await attack(`echo:${over}`);
    expect(python.echoed).toBe('');
    expect(relay).toMatchObject({ reason: 'tls-flood', up: 0 });
    expect(relay.detail).toMatch(/^key-updates: more than 32 in a minute/);
  }, 30_000);

  it('resets a KeyUpdate flood that sends a data byte after each KeyUpdate', async () => {
    const { python, relay } = await attack('keyupdate-data', 3);
    expect(relay.reason).toBe('tls-flood');
    expect(relay.detail).toMatch(/^key-updates/);
    expect(python).toMatchObject({ connections: expect.any(Number), closed_by_server: python.connections });
  }, 30_000);

  it('resets a flood of empty records, each followed by a data byte, within the burst', async () => {
    const { python, relay } = await attack('empty-data', 5);
    expect(relay.reason, relay.detail).toBe('tls-flood');
    expect(relay.detail).toMatch(/^empty-records/);
    // one data byte per empty record: the burst, plus what the sustained rate paid back meanwhile
    // (more the slower the attacker writes: a loaded machine, the ASan build)
    // (the data record that crosses the limit is dropped with what follows it: the burst less one)
    expect(relay.up).toBeGreaterThanOrEqual(TLS_RECORD_LIMITS.emptyRecordBurst - 1);
    expect(relay.up).toBeLessThan(TLS_RECORD_LIMITS.emptyRecordBurst * 16);
    expect(python.closed_by_server).toBe(python.connections);
  }, 30_000);

  it('relays 1-byte records: data, however small, is not limited (fairness bounds it)', async () => {
    const { python, relay } = await attack('tiny', 2);
    expect(relay.reason).not.toBe('tls-flood');
    expect(relay.up).toBe(python.records);
    expect(python.closed_by_server).toBe(0);
  }, 30_000);
});
