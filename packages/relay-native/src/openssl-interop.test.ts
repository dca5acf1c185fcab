// Interop with an independent TLS implementation's tools: openssl s_client and s_server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRequiring, freePort } from '@switchyard/test-kit';
import { afterAll, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import {
  credentials,
  dial,
  firstData,
  fixturePath,
  pausedServer,
  socketPair,
} from './test-support/loopback.js';

const opensslMissing = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'the openssl command is missing (apt-get install openssl)';
  }
})();

const pemArgs = (leaf: string) => [
  '-cert',
  fixturePath(`${leaf}.pem`),
  '-key',
  fixturePath(`${leaf}-key.pem`),
];

/** openssl s_client with the client fixture, verifying the server against the test CA, X25519. */
const sClient = (port: number, extra: string[]) =>
  spawn(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      ...pemArgs('client'),
      '-CAfile',
      fixturePath('ca.pem'),
      '-verify_return_error',
      '-groups',
      'X25519',
      ...extra,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );

describeRequiring(opensslMissing, 'openssl interop', () => {
  const engine = createRelayEngine({ threads: 1 });
  const creds = (leaf: string) => engine.createTlsContext(credentials(leaf));
  afterAll(() => engine.close());

  it('serves openssl s_client with a client certificate', async () => {
    const listener = await pausedServer();
    const child = sClient(listener.port, ['-quiet', '-ign_eof']);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const peer = await engine.tls({
      role: 'server',
      socket: await listener.next(),
      credentials: creds('server'),
    });
    listener.server.close();
    if (!peer.ok) throw new Error(peer.detail);
    expect(peer.spiffeId).toBe('spiffe://cluster.local/ns/test/sa/client');
    const app = await socketPair();
    const result = peer.accept(app.inside);
    const got = firstData(app.outside);
    child.stdin.write('hello from s_client\n');
    expect((await got).toString()).toBe('hello from s_client\n');
    app.outside.end('hello from the app\n');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toContain('hello from the app');
    expect((await result).up).toBe('hello from s_client\n'.length);
  });

  it('dials openssl s_server as a client', async () => {
    const port = await freePort();
    const child = spawn(
      'openssl',
      [
        's_server',
        '-accept',
        String(port),
        ...pemArgs('server'),
        '-CAfile',
        fixturePath('ca.pem'),
        '-Verify',
        '1',
        '-verify_return_error',
        '-tls1_3',
        '-naccept',
        '1',
        '-rev',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await new Promise((resolve) =>
        child.stdout.on('data', (d) => String(d).includes('ACCEPT') && resolve(d)),
      );
      const peer = await engine.tls({
        role: 'client',
        socket: await dial(port),
        credentials: creds('client'),
      });
      if (!peer.ok) throw new Error(peer.detail);
      expect(peer.spiffeId).toBe('spiffe://cluster.local/ns/test/sa/server');
      const app = await socketPair();
      void peer.accept(app.inside);
      const reversed = firstData(app.outside);
      app.outside.write('olleh\n');
      expect((await reversed).toString()).toContain('hello');
      app.outside.destroy();
    } finally {
      child.kill();
    }
  });

  it('gives openssl s_client a ticket it resumes with, and still names the client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swy-resume-'));
    const session = join(dir, 'session.pem');
    const server = creds('server');
    const listener = await pausedServer();
    /** One s_client connection: says hello, reads the app's answer, ends; its output and the engine's peer. */
    const once = async (sessionArgs: string[]) => {
      const child = sClient(listener.port, sessionArgs);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: server });
      if (!peer.ok) throw new Error(peer.detail);
      const app = await socketPair();
      const result = peer.accept(app.inside);
      app.outside.write('hello from the app\n'); // s_client reads the ticket before it
      await new Promise<void>((resolve) => {
        const check = () => out.includes('hello from the app') && resolve();
        child.stdout.on('data', check);
        check();
      });
      child.stdin.end();
      app.outside.end();
      await Promise.all([new Promise((resolve) => child.once('exit', resolve)), result]);
      return { out, peer };
    };
    try {
      const first = await once(['-sess_out', session]);
      expect(first.out).toContain('New, TLSv1.3');
      expect(first.peer).toMatchObject({
        resumed: false,
        spiffeId: 'spiffe://cluster.local/ns/test/sa/client',
      });
      const second = await once(['-sess_in', session]);
      expect(second.out).toContain('Reused, TLSv1.3');
      expect(second.peer).toMatchObject({
        resumed: true,
        spiffeId: 'spiffe://cluster.local/ns/test/sa/client',
      });
    } finally {
      listener.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
