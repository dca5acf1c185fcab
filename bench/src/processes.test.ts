import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listensOn, type Started, start, startTogether, stopAll } from './processes.js';

/** A free port on loopback: one the kernel picked for a listener this test then closed. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await once(probe.listen(0, '127.0.0.1'), 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  return port;
}

/** python3 that prints nothing and listens on `port` after `delayS` seconds, as haproxy does. */
const silentListener = (port: number, delayS: number) => [
  '-c',
  `import socket,time;time.sleep(${delayS});s=socket.socket();s.bind(("127.0.0.1",${port}));s.listen();time.sleep(60)`,
];

describe('start: ready when the process listens on its port', () => {
  it('waits for a silent program to listen, however long it takes, not a fixed time', async () => {
    const port = await freePort();
    const began = Date.now();
    const p = await start('silent', 'python3', silentListener(port, 0.7), { listening: port });
    try {
      expect(Date.now() - began).toBeGreaterThanOrEqual(700);
      expect(listensOn(p.pid, port)).toBe(true);
    } finally {
      await stopAll([p]);
    }
  });

  it("counts only the process's own socket: another listener on the port does not make it ready", async () => {
    const other = createServer().listen(0, '127.0.0.1');
    await once(other, 'listening');
    const { port } = other.address() as AddressInfo;
    try {
      expect(listensOn(process.pid, port)).toBe(true);
      // It cannot bind the port this test holds, so it exits: rejected with its output, never ready.
      await expect(start('late', 'python3', silentListener(port, 0), { listening: port })).rejects.toThrow(
        /late exited \(1\): .*Address already in use/,
      );
    } finally {
      other.close();
    }
  });
});

describe('startTogether', () => {
  it('starts both, or, when one fails, stops the one that started and rejects with the failure', async () => {
    const port = await freePort();
    let listener: Started | undefined;
    const starting = start('listener', 'python3', silentListener(port, 0), { listening: port }).then((p) => {
      listener = p;
      return p;
    });
    await expect(
      startTogether([starting, start('broken', 'python3', ['-c', 'raise SystemExit(3)'], /never/)]),
    ).rejects.toThrow(/broken exited \(3\)/);
    expect(listener?.child.exitCode ?? listener?.child.signalCode).toBeTruthy();
    expect(listensOn(listener?.pid ?? -1, port)).toBe(false);

    const [a, b] = await startTogether([
      start('a', 'python3', silentListener(port, 0), { listening: port }),
      start('b', 'python3', ['-c', 'print("READY", flush=True);import time;time.sleep(60)'], /READY/),
    ]);
    expect(listensOn(a.pid, port)).toBe(true);
    await stopAll([a, b]);
  });
});
