import type { Server, Socket } from 'node:net';
import type { IpFamily, NetnsTarget } from '@switchyard/core';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLab, describePrivileged, type Lab } from './testing/netns-lab.js';
import { closeAll, echo, exchange, nextConnection } from './testing/sockets.js';
import { tproxyDriver } from './tproxy-driver.js';

const families: [IpFamily, 'v4' | 'v6'][] = [
  ['ipv4', 'v4'],
  ['ipv6', 'v6'],
];

describePrivileged('tproxy capture between two namespaces', () => {
  let lab: Lab;
  let servers: Server[];
  let sockets: Socket[];
  const driver = tproxyDriver();
  const ops = driver.socketOps;
  const ns = (name: string): NetnsTarget => ({ kind: 'netns', name });

  beforeEach(() => {
    lab = createLab();
    servers = [];
    sockets = [];
  });
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await closeAll(servers);
    lab.destroy();
  });

  async function listen(netns: string, port: number, family: IpFamily): Promise<Server> {
    const server = await ops.listen({ port, family, target: ns(netns) });
    servers.push(server);
    return server;
  }

  /** A plain client in a namespace: no mark, its own address. */
  async function client(netns: string, address: string, port: number): Promise<Socket> {
    const socket = await ops.dial({ destination: { address, port }, mark: 0, target: ns(netns) });
    sockets.push(socket);
    return socket;
  }

  for (const [family, v] of families) {
    it(`${family}: inbound — a client's connection to any port lands on the transparent listener, with the original destination and the client's address; excluded ports reach the app`, async () => {
      await driver.apply(ns(lab.b.name), {
        families: [family],
        inbound: { port: 15006, excludePorts: [15020] },
      });
      const proxy = await listen(lab.b.name, 15006, family);
      const app = echo(await listen(lab.b.name, 15020, family));

      const accepted = nextConnection(proxy);
      const c = await client(lab.a.name, lab.b[v], 8080);
      const captured = await accepted;
      sockets.push(captured);
      expect(ops.originalDestination(captured)).toEqual({ address: lab.b[v], port: 8080, family });
      expect(captured.remoteAddress).toBe(lab.a[v]);
      captured.on('data', (d) => captured.write(d));
      expect(await exchange(c, 'hello')).toBe('hello');

      const direct = nextConnection(app);
      const c2 = await client(lab.a.name, lab.b[v], 15020);
      sockets.push(await direct);
      expect(await exchange(c2, 'health')).toBe('health');
    });

    it(`${family}: inbound — the proxy's upstream dial keeps the client's address, and the app's replies come back to it`, async () => {
      await driver.apply(ns(lab.b.name), { families: [family], inbound: { port: 15006 } });
      const proxy = await listen(lab.b.name, 15006, family);
      const app = echo(await listen(lab.b.name, 9000, family));
      const appSaw = nextConnection(app);

      const accepted = nextConnection(proxy);
      const c = await client(lab.a.name, lab.b[v], 9000);
      const captured = await accepted;
      sockets.push(captured);
      const destination = ops.originalDestination(captured);
      const upstream = await ops.dial({
        destination,
        source: { address: captured.remoteAddress as string },
        target: ns(lab.b.name),
      });
      sockets.push(upstream);
      captured.pipe(upstream).pipe(captured);
      const seen = await appSaw;
      sockets.push(seen);
      expect(seen.remoteAddress).toBe(lab.a[v]);
      expect(await exchange(c, 'through the proxy')).toBe('through the proxy');
    });

    it(`${family}: outbound — the workload's connection lands on its outbound listener, whose marked dial reaches the peer uncaptured`, async () => {
      await driver.apply(ns(lab.a.name), { families: [family], outbound: { port: 15001 } });
      const proxy = await listen(lab.a.name, 15001, family);
      const app = echo(await listen(lab.b.name, 8080, family));
      const appSaw = nextConnection(app);

      const accepted = nextConnection(proxy);
      const c = await client(lab.a.name, lab.b[v], 8080);
      const captured = await accepted;
      sockets.push(captured);
      const destination = ops.originalDestination(captured);
      expect(destination).toEqual({ address: lab.b[v], port: 8080, family });
      // The proxy's own dial carries the bypass mark: it must reach B, not loop back to 15001.
      const upstream = await ops.dial({ destination, target: ns(lab.a.name) });
      sockets.push(upstream);
      captured.pipe(upstream).pipe(captured);
      const seen = await appSaw;
      sockets.push(seen);
      expect(seen.remoteAddress).toBe(lab.a[v]);
      expect(await exchange(c, 'out and back')).toBe('out and back');
    });
  }

  it('finds the original destination of a connection redirected by a NAT rule (SO_ORIGINAL_DST)', async () => {
    lab.run(lab.b.name, 'nft', 'add', 'table', 'ip', 'nat');
    lab.run(
      lab.b.name,
      'nft',
      'add',
      'chain',
      'ip',
      'nat',
      'pre',
      '{ type nat hook prerouting priority dstnat; }',
    );
    lab.run(
      lab.b.name,
      'nft',
      'add',
      'rule',
      'ip',
      'nat',
      'pre',
      'tcp',
      'dport',
      '7000',
      'redirect',
      'to',
      ':15099',
    );
    const proxy = await listen(lab.b.name, 15099, 'ipv4');
    const accepted = nextConnection(proxy);
    await client(lab.a.name, lab.b.v4, 7000);
    const socket = await accepted;
    sockets.push(socket);
    expect(socket.localPort).toBe(15099);
    expect(ops.originalDestination(socket)).toEqual({ address: lab.b.v4, port: 7000, family: 'ipv4' });
  });
});
