import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsTerminator } from './tls-terminator.js';
import { TruncationGuard } from './truncation-guard.js';

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
