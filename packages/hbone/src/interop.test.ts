import { execFile, execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { HboneClient } from './hbone-client.js';
import { startTestServer, type TestServer } from './test-server.js';

// Debian's python3-h2 is installed for /usr/bin/python3 (not the pyenv python first on PATH).
const PYTHON = '/usr/bin/python3';
const interop = join(import.meta.dirname, '..', 'interop');
const LOCAL = '127.0.0.1';

function pythonH2Unavailable(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import h2'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3-h2 is not installed (apt-get install python3-h2; scripts/system-deps.sh does)';
  }
}

const reason = (() => {
  try {
    return pythonH2Unavailable();
  } catch {
    return 'python3-h2 is not installed';
  }
})();

describeRequiring(reason, 'HBONE interop with an independent HTTP/2 implementation (python3-h2)', () => {
  let pki: TestPki;
  let dirs: { client: string; server: string; intruder: string };
  let echoPort: number;
  let echo: Server;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    pki = await createTestPki();
    const issue = (name: string, ns: string) => pki.issue(name, ns);
    dirs = {
      client: await issue('client', 'web'),
      server: await issue('server', 'web'),
      intruder: await issue('intruder', 'other'),
    };
    echo = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, LOCAL, r));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterAll(async () => {
    echo.close();
    await pki.dispose();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function server(): Promise<TestServer> {
    const certificates = await CertificateStore.open(dirs.server, { watch: false });
    const s = await startTestServer(certificates);
    cleanups.push(() => s.close());
    return s;
  }

  const pythonClient = async (port: number, certDir: string, authority: string, ...mode: string[]) => {
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [join(interop, 'hbone_client.py'), LOCAL, String(port), certDir, authority, ...mode],
      {
        timeout: 20_000,
      },
    );
    return JSON.parse(stdout);
  };

  it('a python-h2 client tunnels through the Switchyard server: 200, data both ways, half-close', async () => {
    const s = await server();
    expect(await pythonClient(s.port, dirs.client, `${LOCAL}:${echoPort}`, 'tunnel')).toEqual({
      status: 200,
      echo: 'hello from python-h2',
      ended: true,
      reset: null,
    });
  });

  it('the Switchyard server answers python-h2 with 401, 503 and 400 as ztunnel does', async () => {
    const s = await server();
    expect((await pythonClient(s.port, dirs.intruder, `${LOCAL}:${echoPort}`, 'tunnel')).status).toBe(401);
    expect((await pythonClient(s.port, dirs.client, `${LOCAL}:1`, 'tunnel')).status).toBe(503);
    expect((await pythonClient(s.port, dirs.client, 'nonsense', 'tunnel')).status).toBe(400);
  });

  it('refuses a flood of streams over its advertised limit (RST_STREAM, then closing the connection)', async () => {
    const s = await server();
    const result = await pythonClient(s.port, dirs.client, `${LOCAL}:${echoPort}`, 'flood', '150');
    expect(result.advertised).toBe(100);
    expect(result.ok).toBeLessThanOrEqual(100);
    // Node refuses the excess streams and, past its rejected-stream limit, drops the flooding connection.
    expect(result.refused >= 50 || result.closed).toBe(true);
  });

  it('the Switchyard client tunnels through a python-h2 server, sending the HBONE headers', async () => {
    const py = spawn(PYTHON, [join(interop, 'hbone_server.py'), dirs.server], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => py.kill());
    const lines: string[] = [];
    let buffer = '';
    const firstLine = new Promise<string>((resolve) => {
      py.stdout.on('data', (d) => {
        buffer += d.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        lines.push(...parts);
        if (lines[0]) resolve(lines[0]);
      });
    });
    const port = JSON.parse(await firstLine).port as number;
    const certificates = await CertificateStore.open(dirs.client, { watch: false });
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      certificates,
    });
    cleanups.push(() => client.close());
    const tunnel = await client.connect({
      destination: { address: LOCAL, port: echoPort },
      peer: { address: LOCAL, port },
      client: { address: '10.20.30.40', port: 5555 },
      baggage: { 'k8s.namespace.name': 'web', 'service.name': 'api' },
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const reply = new Promise<string>((resolve) => {
      let text = '';
      tunnel.on('data', (d: Buffer) => {
        text += d.toString();
      });
      tunnel.once('end', () => resolve(text));
    });
    tunnel.end('hello from switchyard');
    expect(await reply).toBe('hello from switchyard');
    const headers = JSON.parse(lines[1] ?? '{}');
    expect(headers).toMatchObject({
      ':method': 'CONNECT',
      ':authority': `${LOCAL}:${echoPort}`,
      forwarded: 'for="10.20.30.40:5555"',
      baggage: 'k8s.namespace.name=web,service.name=api',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(headers[':path']).toBeUndefined();
  });
});
