import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from './admin-server.js';
import { jsonLogger, type LogLevel } from './logger.js';

/** This host's first non-loopback IPv4 address: a peer that is not on loopback. */
function outsideAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('this test needs a non-loopback IPv4 address on the host (an eth0)');
  return found.address;
}

describe('the admin endpoint /logging', () => {
  let admin: AdminServer;
  let level: LogLevel = 'info';
  const lines: string[] = [];
  const logger = jsonLogger({ level: () => level, write: (l) => lines.push(l) });

  beforeAll(async () => {
    admin = await startAdminServer(
      {
        metrics: { registry: new Registry() },
        ready: true,
        logLevel: { get: () => level, set: (l) => (level = l) },
      },
      { host: '0.0.0.0', port: 0 },
    );
  });
  afterAll(() => admin.close());

  const at = (host: string, query = '') => `http://${host}:${admin.port}/logging${query}`;

  it('reads the level, and changes it from loopback: the logger follows at once', async () => {
    expect(await (await fetch(at('127.0.0.1'))).json()).toEqual({ level: 'info' });
    logger.debug('hidden');
    const r = await fetch(at('127.0.0.1', '?level=debug'), { method: 'POST' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ level: 'debug' });
    logger.debug('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('refuses a level it does not know, and any change from a peer that is not on loopback', async () => {
    const bad = await fetch(at('127.0.0.1', '?level=loud'), { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'level must be one of debug, info, warn, error' });
    const remote = await fetch(at(outsideAddress(), '?level=error'), { method: 'POST' });
    expect(remote.status).toBe(403);
    expect(level).toBe('debug');
    expect((await fetch(at('127.0.0.1'), { method: 'PUT' })).status).toBe(405);
  });
});
