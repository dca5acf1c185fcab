// Closing the engine while a finished handshake is still on its way to JavaScript. The peer runs
// in another process and the JavaScript thread is held still, so the engine finishes the handshake
// and queues its event before close() runs: that late event must not hand out a decision that
// reaches the freed engine, and the connection awaiting it must be closed, not leaked.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import { credentials, fixturePath, pausedServer } from './test-support/loopback.js';

/** A TLS client in its own process that reports "up" once connected and holds the connection. */
function peerProcess(port: number) {
  const script = `
    const fs = require('node:fs');
    const s = require('node:tls').connect({ port: ${port}, host: '127.0.0.1',
      cert: fs.readFileSync(${JSON.stringify(fixturePath('client.pem'))}),
      key: fs.readFileSync(${JSON.stringify(fixturePath('client-key.pem'))}),
      ca: fs.readFileSync(${JSON.stringify(fixturePath('ca.pem'))}),
      checkServerIdentity: () => undefined });
    s.on('secureConnect', () => process.stdout.write('up\\n'));
    s.on('close', () => { process.stdout.write('closed\\n'); process.exit(0); });
    s.on('error', () => undefined);
    process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  return {
    output: () => out,
    exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    stop: () => child.stdin.end(),
  };
}

/** Holds the JavaScript thread (not a timing assertion: only a window for the engine thread). */
const holdThread = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('closing the engine with a handshake in flight', () => {
  it('settles the handshake as engine-closed, closes the peer and refuses later calls', async () => {
    const engine = createRelayEngine({ threads: 1 });
    const serverContext = engine.createTlsContext(credentials('server'));
    const listener = await pausedServer();
    const peer = peerProcess(listener.port);
    const socket = await listener.next();
    listener.server.close();
    const handshake = engine.tls({ role: 'server', socket, credentials: serverContext });
    holdThread(1_500); // the engine completes the handshake meanwhile; its event waits for this thread
    engine.close();
    const result = await handshake;
    expect(result.ok ? 'decision offered' : result.reason).toBe('engine-closed');
    await new Promise((resolve) => setTimeout(resolve, 50)); // the engine's memory is gone by now
    expect(() => engine.stats()).toThrow(/closed/);
    await peer.exited.then(
      () => undefined,
      () => undefined,
    );
    // the connection awaiting a decision was closed when the engine stopped: the peer saw it end
    expect(peer.output()).toContain('closed');
    peer.stop();
  }, 20_000);
});
