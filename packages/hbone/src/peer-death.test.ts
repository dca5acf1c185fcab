import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The sidecars run in processes of their own (from the built packages), so killing one with -9
// is a real peer death, and the survivor's own process is what must stay up.
const SIDECAR = join(import.meta.dirname, '..', 'interop', 'sidecar-process.mjs');
const LOCAL = '127.0.0.1';

async function start(config: object): Promise<{ child: ChildProcess; port: number; admin: number }> {
  const child = spawn(process.execPath, [SIDECAR, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve(line.slice('READY '.length));
    });
    child.once('exit', (code) => reject(new Error(`sidecar exited with ${code} before it was ready`)));
  });
  return { child, ...JSON.parse(ready) };
}

describe('a peer sidecar killed with -9 mid-tunnel', () => {
  let pki: TestPki;
  let app: Server;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    pki = await createTestPki();
    app = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => app.listen(0, LOCAL, r));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => app.close(r));
    await pki.dispose();
  });

  it('ends the tunnel as an error, counts it, and the surviving sidecar is still serving 60 s later', async () => {
    const appPort = (app.address() as { port: number }).port;
    const server = await start({ role: 'server', certDir: await pki.issue('server', 'web'), appPort });
    children.push(server.child);
    const client = await start({
      role: 'client',
      certDir: await pki.issue('client', 'web'),
      appPort,
      hbonePort: server.port,
    });
    children.push(client.child);
    const s: Socket = connect(client.port, LOCAL);
    const ended = new Promise<string>((resolve) => {
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.once('end', () => resolve('clean end'));
    });
    const echoed = new Promise((r) => s.once('data', r));
    s.write('before the peer dies');
    await echoed;
    server.child.kill('SIGKILL');
    expect(await ended).toBe('ECONNRESET');
    // The keepalive that once crashed the survivor pings every 10 s and times out after 20 s.
    await new Promise((r) => setTimeout(r, 60_000));
    expect(client.child.exitCode).toBeNull();
    expect((await fetch(`http://${LOCAL}:${client.admin}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://${LOCAL}:${client.admin}/metrics`)).text()).toMatch(
      /switchyard_connections_total\{[^}]*direction="outbound",outcome="failed"\} 1/,
    );
  }, 90_000);
});
