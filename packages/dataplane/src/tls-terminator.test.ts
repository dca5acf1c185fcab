import { connect, createServer, type Server, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TlsFailure, TlsTerminator } from './tls-terminator.js';

type Outcome = { secure: TLSSocket } | { failure: TlsFailure; ms: number };

// A half-open accepted socket (as the data plane's listeners make them) whose peer goes away
// during the handshake must fail at once, never hold its pending slot until the timeout.
describe('TlsTerminator', () => {
  let pki: TestPki;
  let terminator: TlsTerminator;
  let server: Server;
  let client: string;
  const outcomes: Outcome[] = [];
  let next: ((o: Outcome) => void) | undefined;
  const outcome = () => new Promise<Outcome>((r) => (next = r));

  beforeAll(async () => {
    pki = await createTestPki();
    const store = await CertificateStore.open(await pki.issue('server', 'web'), { watch: false });
    client = await pki.issue('client', 'web');
    terminator = new TlsTerminator({ certificate: store.current, handshakeTimeout: 5_000 });
    server = createServer({ allowHalfOpen: true }, (raw: Socket) => {
      const started = Date.now();
      terminator.accept(raw, {
        secure: (tls) => next?.({ secure: tls }),
        failed: (failure) => next?.({ failure, ms: Date.now() - started }),
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    server.close();
    await pki.dispose();
  });
  const port = () => (server.address() as { port: number }).port;

  it.each([
    ['a FIN before any byte', (s: Socket) => s.end()],
    ['a FIN after part of a ClientHello', (s: Socket) => s.end(Buffer.from([0x16, 3, 1, 0, 200, 1, 0]))],
    [
      'an RST after part of a ClientHello',
      (s: Socket) => s.write(Buffer.from([0x16, 3, 1]), () => s.resetAndDestroy()),
    ],
  ])('%s fails the handshake at once, as closed', async (_name, leave) => {
    const done = outcome();
    const s = connect(port(), '127.0.0.1', () => leave(s));
    s.on('error', () => undefined);
    const result = await done;
    outcomes.push(result);
    expect(result).toMatchObject({ failure: 'closed' });
    expect((result as { ms: number }).ms).toBeLessThan(1_000);
  });

  it('hands a finished handshake over half-open again, as the listener made it', async () => {
    const done = outcome();
    const { readFile } = await import('node:fs/promises');
    const tls = tlsConnect({
      port: port(),
      host: '127.0.0.1',
      cert: await readFile(`${client}/cert-chain.pem`),
      key: await readFile(`${client}/key.pem`),
      rejectUnauthorized: false,
    });
    const result = (await done) as { secure: TLSSocket };
    expect(result.secure.allowHalfOpen).toBe(true);
    result.secure.destroy();
    tls.destroy();
  });
});
