import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsTerminator } from './tls-terminator.js';
import { TLS_RECORDS_PER_TURN, TruncationGuard } from './truncation-guard.js';

type Ending = { data: number; end: 'end' | 'error'; error?: string };

// A TLS server on guarded sockets (as the mtls carrier terminates them): a close_notify ends the
// stream, a FIN without one fails it — also when the reader is paused and ciphertext waits.
describe('TruncationGuard', () => {
  let pki: TestPki;
  let server: Server;
  let client: { cert: Buffer; key: Buffer };
  let paused = false;
  let next: ((e: Ending) => void) | undefined;
  const ending = () => new Promise<Ending>((r) => (next = r));

  beforeAll(async () => {
    pki = await createTestPki();
    const store = await CertificateStore.open(await pki.issue('server', 'web'), { watch: false });
    const dir = await pki.issue('client', 'web');
    client = { cert: await readFile(`${dir}/cert-chain.pem`), key: await readFile(`${dir}/key.pem`) };
    const terminator = new TlsTerminator({ certificate: store.current, handshakeTimeout: 5_000 });
    server = createServer({ allowHalfOpen: true }, (raw: Socket) => {
      const guard = new TruncationGuard(raw);
      terminator.accept(guard, {
        failed: () => undefined,
        secure: (tls: TLSSocket) => {
          guard.watch(tls);
          let data = 0;
          const read = () => tls.on('data', (d: Buffer) => (data += d.length));
          if (paused) setTimeout(read, 300);
          else read();
          tls.once('end', () => next?.({ data, end: 'end' }));
          tls.once('error', (e) => next?.({ data, end: 'error', error: (e as { code?: string }).code }));
        },
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    server.close();
    await pki.dispose();
  });

  /** Sends `bytes`, then ends with a close_notify (`clean`) or a bare FIN under TLS. */
  const send = async (bytes: number, clean: boolean) => {
    const port = (server.address() as { port: number }).port;
    const raw = connect(port, '127.0.0.1');
    const tls = tlsConnect({ socket: raw, ...client, rejectUnauthorized: false });
    tls.on('error', () => undefined);
    await new Promise((r) => tls.once('secureConnect', r));
    await new Promise((r) => tls.write(Buffer.alloc(bytes, 1), r));
    if (clean) tls.end();
    else raw.end(); // TCP FIN, no close_notify
    return tls;
  };

  it.each([false, true])('a close_notify ends the stream (reader paused: %s)', async (slow) => {
    paused = slow;
    const done = ending();
    const tls = await send(4 * 1024 * 1024, true);
    expect(await done).toEqual({ data: 4 * 1024 * 1024, end: 'end' });
    tls.destroy();
  });

  it.each([false, true])('a FIN without close_notify fails it (reader paused: %s)', async (slow) => {
    paused = slow;
    const done = ending();
    const tls = await send(4 * 1024 * 1024, false);
    expect(await done).toMatchObject({ end: 'error', error: 'SWY_ERR_TLS_TRUNCATED' });
    tls.destroy();
  });
});

// The ciphertext is handed on a bounded number of records a turn: a peer writing tiny records
// cannot have all of a 64 KiB read decrypted at once while other connections wait.
describe('TruncationGuard pacing', () => {
  /** `count` TLS records of one byte each (6 bytes apiece). */
  const tiny = (count: number) =>
    Buffer.concat(Array.from({ length: count }, () => Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0x2a])));

  it('hands on at most TLS_RECORDS_PER_TURN records at a time, all of them in order, other connections in between', async () => {
    const seen: { who: string; bytes: number }[] = [];
    const total = new Map<string, Buffer[]>();
    let ended: () => void = () => undefined;
    const done = new Promise<void>((r) => (ended = r));
    const server = createServer((raw: Socket) => {
      const guard = new TruncationGuard(raw);
      let who = '';
      guard.on('data', (d: Buffer) => {
        who ||= d.length === 6 ? 'small' : 'flood';
        seen.push({ who, bytes: d.length });
        total.set(who, [...(total.get(who) ?? []), d]);
      });
      guard.on('end', () => who === 'flood' && ended());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const flood = tiny(200_000);
    const a = connect(port, '127.0.0.1');
    const b = connect(port, '127.0.0.1');
    a.end(flood);
    b.write(tiny(1));
    await done;
    expect(Buffer.concat(total.get('flood') ?? [])).toEqual(flood);
    expect(Math.max(...seen.map((s) => s.bytes))).toBeLessThanOrEqual(TLS_RECORDS_PER_TURN * 6);
    // the small connection's record went through while the flood's were still being handed on
    const small = seen.findIndex((s) => s.who === 'small');
    expect(small).toBeGreaterThan(-1);
    expect(small).toBeLessThan(seen.length - 1);
    a.destroy();
    b.destroy();
    server.close();
  });
});
