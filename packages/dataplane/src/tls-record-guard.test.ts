import { execFile } from 'node:child_process';
import { type AddressInfo, createServer, type Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLS_RECORD_LIMITS, type TlsFlood } from './tls-record-limits.js';
import { TlsTerminator } from './tls-terminator.js';
import { TruncationGuard } from './truncation-guard.js';

const run = promisify(execFile);
/** TLS 1.3 records written by hand after Python's ssl handshake (Debian's OpenSSL): see the script. */
const RECORDS = fileURLToPath(new URL('../interop/tls13_records.py', import.meta.url));

let pki: TestPki;
let peerDir: string;
let server: Server;
let port: number;
/** The same, the ciphertext carried under TLS by a {@link TruncationGuard} (as the mTLS carrier does). */
let guarded: Server;
let guardedPort: number;
const floods: { kind: TlsFlood; detail: string; source: string | undefined }[] = [];
beforeAll(async () => {
  pki = await createTestPki();
  peerDir = await pki.issue('peer', 'web');
  const identity = await CertificateStore.open(await pki.issue('server', 'web'), { watch: false });
  const terminator = new TlsTerminator({
    certificate: identity.current,
    handshakeTimeout: 5_000,
    onFlood: (kind, detail, source) => void floods.push({ kind, detail, source }),
  });
  identity.close();
  // every secure connection echoes what it reads, as an app behind the carrier would
  const echo = (tls: TLSSocket) => {
    tls.on('error', () => undefined);
    tls.pipe(tls);
  };
  server = createServer((raw) => terminator.accept(raw, { secure: echo, failed: () => undefined }));
  guarded = createServer((raw) => {
    const guard = new TruncationGuard(raw);
    guard.on('error', () => undefined);
    terminator.accept(guard, {
      secure: (tls) => {
        guard.watch(tls);
        echo(tls);
      },
      failed: () => undefined,
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => guarded.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  guardedPort = (guarded.address() as AddressInfo).port;
});
afterAll(async () => {
  server?.close();
  guarded?.close();
  await pki?.dispose();
});

/** Each attack from an address of its own (127.0.0.N): the flood reports which source it was. */
let source = 10;
const attack = async (
  mode: string,
  seconds = 0,
  from = `127.0.0.${source++}`,
  to = port,
): Promise<Record<string, unknown>> => {
  await new Promise((r) => setTimeout(r, 200)); // the previous attack's last connection is gone
  floods.length = 0;
  const args = [RECORDS, '127.0.0.1', `${to}`, peerDir, mode, `${seconds}`, '1', from];
  return JSON.parse((await run('/usr/bin/python3', args, { timeout: 30_000 })).stdout);
};

describe('what a TLS peer may send after the handshake, on the JavaScript carriers', () => {
  it('carries data after KeyUpdates up to the limit', async () => {
    const under = TLS_RECORD_LIMITS.keyUpdatesPerMinute;
    expect(await attack(`echo:${under}`)).toEqual({
      key_updates: under,
      echoed: `after ${under} key updates\n`,
    });
    expect(floods).toEqual([]);
  }, 30_000);

  it('destroys the connection at the first KeyUpdate over the limit, counted once', async () => {
    const result = await attack(`echo:${TLS_RECORD_LIMITS.keyUpdatesPerMinute + 1}`);
    expect(result.echoed).toBe('');
    expect(floods.splice(0)).toEqual([
      {
        kind: 'key-updates',
        detail: 'more than 32 key updates in a minute',
        source: expect.stringMatching(/127\.0\.0\.\d+$/), // to be penalized
      },
    ]);
  }, 30_000);

  it('destroys a KeyUpdate flood that sends a data byte after each KeyUpdate, again and again', async () => {
    const result = (await attack('keyupdate-data', 3)) as {
      connections: number;
      closed_by_server: number;
      failed_connections: number;
    };
    expect(result.connections).toBeGreaterThan(1); // it reconnected after each reset
    expect(result.closed_by_server).toBeGreaterThanOrEqual(result.connections - 1); // the last: time was up
    const kinds = floods.splice(0).map((f) => f.kind);
    expect(kinds.length).toBeGreaterThanOrEqual(result.connections - 1);
    expect(new Set(kinds)).toEqual(new Set(['key-updates']));
  }, 30_000);

  it('destroys a flood of empty records (each followed by a data byte) within a bounded number', async () => {
    const result = (await attack('empty-data', 3)) as {
      closed_by_server: number;
      most_records_one_connection: number;
    };
    expect(result.closed_by_server).toBeGreaterThan(0);
    expect(new Set(floods.splice(0).map((f) => f.kind))).toEqual(new Set(['empty-records']));
    // the burst, what the sustained rate paid back until a check saw it, and what was in flight
    expect(result.most_records_one_connection).toBeLessThan(TLS_RECORD_LIMITS.emptyRecordBurst * 64);
  }, 30_000);

  it.each([
    ['a TCP socket', () => port],
    ['a TruncationGuard', () => guardedPort],
  ])(
    'carries 1-byte records: data, however small, is not limited (TLS over %s)',
    async (_, to) => {
      const result = (await attack('tiny', 2, undefined, to())) as {
        closed_by_server: number;
        records: number;
      };
      expect(result.records).toBeGreaterThan(1_000);
      expect(floods).toEqual([]);
      expect(result.closed_by_server).toBe(0);
    },
    30_000,
  );
});
