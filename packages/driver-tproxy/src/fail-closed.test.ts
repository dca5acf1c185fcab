import type { Server, Socket } from 'node:net';
import type { IpFamily, NetnsTarget } from '@switchyard/core';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLab, describePrivileged, type Lab } from './testing/netns-lab.js';
import { closeAll } from './testing/sockets.js';
import { tproxyDriver } from './tproxy-driver.js';

const families: [IpFamily, 'v4' | 'v6'][] = [
  ['ipv4', 'v4'],
  ['ipv6', 'v6'],
];

/**
 * nft's `tproxy` statement does not match when no socket listens on the proxy port, so a rule
 * set that ended there would hand captured traffic to the app unproxied whenever the proxy is
 * down. These prove the other outcome: with the rules in place and nothing listening, a captured
 * connection is reset in the kernel and the app never sees it, inbound and outbound.
 */
describePrivileged('capture with no proxy listening: refused in the kernel (fail closed)', () => {
  let lab: Lab;
  let servers: Server[];
  const driver = tproxyDriver();
  const ops = driver.socketOps;
  const ns = (name: string): NetnsTarget => ({ kind: 'netns', name });

  beforeEach(() => {
    lab = createLab();
    servers = [];
  });
  afterEach(async () => {
    await closeAll(servers);
    lab.destroy();
  });

  /** A plain app listener that records every connection it gets. */
  async function app(netns: string, port: number, family: IpFamily): Promise<Socket[]> {
    const seen: Socket[] = [];
    const server = await ops.listen({ port, family, target: ns(netns) });
    server.on('connection', (s: Socket) => {
      seen.push(s);
      s.destroy();
    });
    servers.push(server);
    return seen;
  }

  /** Connects from a namespace with no mark; resolves with the error code, or 'connected'. */
  async function attempt(netns: string, address: string, port: number): Promise<string> {
    try {
      const socket = await ops.dial({ destination: { address, port }, mark: 0, target: ns(netns) });
      socket.destroy();
      return 'connected';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  for (const [family, v] of families) {
    it(`${family}: inbound to a captured port is reset and never reaches the app`, async () => {
      const seen = await app(lab.b.name, 8080, family);
      await driver.apply(ns(lab.b.name), { families: [family], inbound: { port: 15006 } });
      expect(await attempt(lab.a.name, lab.b[v], 8080)).toBe('ECONNREFUSED');
      // Once a proxy listens again, the same connection is captured (not refused).
      const proxy = await ops.listen({ port: 15006, family, target: ns(lab.b.name) });
      proxy.on('connection', (s: Socket) => s.destroy());
      servers.push(proxy);
      expect(await attempt(lab.a.name, lab.b[v], 8080)).toBe('connected');
      expect(seen).toHaveLength(0);
    });

    it(`${family}: outbound from a captured workload is reset and never reaches the peer`, async () => {
      const seen = await app(lab.b.name, 8080, family);
      await driver.apply(ns(lab.a.name), { families: [family], outbound: { port: 15001 } });
      expect(await attempt(lab.a.name, lab.b[v], 8080)).toBe('ECONNREFUSED');
      expect(seen).toHaveLength(0);
    });

    it(`${family}: an excluded inbound port still reaches the app with nothing listening`, async () => {
      const seen = await app(lab.b.name, 8081, family);
      await driver.apply(ns(lab.b.name), {
        families: [family],
        inbound: { port: 15006, excludePorts: [8081] },
      });
      expect(await attempt(lab.a.name, lab.b[v], 8081)).toBe('connected');
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toHaveLength(1);
    });
  }
});
