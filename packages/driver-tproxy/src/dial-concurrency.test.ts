import type { Server, Socket } from 'node:net';
import type { NetnsTarget } from '@switchyard/core';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLab, describePrivileged, type Lab } from './testing/netns-lab.js';
import { tproxyDriver } from './tproxy-driver.js';

describePrivileged('tproxy socket ops: dials run side by side', () => {
  let lab: Lab;
  const ops = tproxyDriver().socketOps;
  const ns = (name: string): NetnsTarget => ({ kind: 'netns', name });
  const open: Socket[] = [];
  let server: Server | undefined;

  beforeEach(() => {
    lab = createLab();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    lab.destroy();
  });

  it('50 dials to a black-holed address in flight do not hold up a dial to a live peer: it connects while they all still wait', async () => {
    // Host b drops every SYN to port 9: those connects hang until their own timeout.
    lab.run(lab.b.name, 'nft', 'add table inet blackhole');
    lab.run(lab.b.name, 'nft', 'add chain inet blackhole in { type filter hook input priority 0; }');
    lab.run(lab.b.name, 'nft', 'add rule inet blackhole in tcp dport 9 drop');
    const live = await ops.listen({ port: 7000, target: ns(lab.b.name) });
    server = live;
    live.on('connection', (s: Socket) => open.push(s));
    let settled = 0;
    const blackHoled = Array.from({ length: 50 }, () =>
      ops
        .dial({ destination: { address: lab.b.v4, port: 9 }, target: ns(lab.a.name), timeout: 5_000 })
        .then(
          (s) => {
            open.push(s);
            return 'connected';
          },
          (e: NodeJS.ErrnoException) => e.code,
        )
        .finally(() => settled++),
    );
    await new Promise((r) => setTimeout(r, 50));
    const socket = await ops.dial({ destination: { address: lab.b.v4, port: 7000 }, target: ns(lab.a.name) });
    open.push(socket);
    expect(socket.remoteAddress).toBe(lab.b.v4);
    // Not one black-holed dial has ended (each waits out its 5 s): the live one did not queue behind them.
    expect(settled).toBe(0);
    // Every black-holed dial ends by its own timeout, as an error with a code, none connected.
    expect(new Set(await Promise.all(blackHoled))).toEqual(new Set(['ETIMEDOUT']));
  });

  it('a dial that is aborted or times out leaves no socket behind', async () => {
    const controller = new AbortController();
    const pending = ops.dial({
      destination: { address: '10.77.255.254', port: 9 },
      target: ns(lab.a.name),
      signal: controller.signal,
    });
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    await expect(
      ops.dial({ destination: { address: lab.b.v4, port: 1 }, target: ns(lab.a.name), mark: 0 }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
