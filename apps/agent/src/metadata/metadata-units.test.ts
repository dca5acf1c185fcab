import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@switchyard/dataplane';
import { hnsDriver, loadHcn } from '@switchyard/driver-hns';
import { buildStandIn, standInHooks, standInUnavailable } from '@switchyard/driver-hns/testing';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { createLab, describePrivileged, type Lab } from '@switchyard/driver-tproxy/testing';
import { describeRequiring, freePort } from '@switchyard/test-kit';
import { afterEach, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';
import { hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import { metadataContainer as container, dockerListing } from '../testing/listed-containers.js';
import { MetadataProxy } from './metadata-proxy.js';

// A metadata client's capture through its life, kept by the reconciler as a capture unit: real
// nftables in namespaces and the tproxy driver; Docker's list is what the test says it is.

describePrivileged('metadata clients as capture units of the reconciler (namespaces, nftables)', () => {
  let lab: Lab | undefined;
  let proxy: MetadataProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    lab?.destroy();
  });

  const captured = (ns: string) => /switchyard/.test((lab as Lab).run(ns, 'nft', 'list', 'tables'));

  async function start(whenNoProxy: 'refuse' | 'direct' = 'refuse') {
    lab = createLab();
    const config = validateConfig(
      { identity: { caDir: '/ca' }, metadataProxy: { port: await freePort(), whenNoProxy } },
      '/etc',
    );
    const owner = container('proxy', 'proxy', ['127.0.0.1']);
    const client = container('client', 'client', ['10.0.0.9'], lab.a.name);
    const docker = dockerListing([client, owner]);
    proxy = await MetadataProxy.start({
      config: config.metadataProxy!,
      bypass: config.bypass,
      driver: tproxyDriver(),
      logger: silentLogger,
      retry: { initialMs: 50, maxMs: 200 },
      resyncMs: 60_000,
      watcher: docker.watcher,
    });
    return { lab, proxy, docker, client, owner };
  }

  it('a restarted client (a new namespace) is captured there, and its old capture and workload go', async () => {
    const { lab, proxy, docker, client, owner } = await start();
    expect(proxy.status().clients.map((c) => [c.phase, c.target])).toEqual([
      ['captured', `netns:/run/netns/${lab.a.name}`],
    ]);
    expect(captured(lab.a.name)).toBe(true);
    docker.set([{ ...client, network: { kind: 'netns', path: `/run/netns/${lab.b.name}` } }, owner]);
    await expect.poll(() => captured(lab.b.name)).toBe(true);
    await expect.poll(() => captured(lab.a.name)).toBe(false);
    // the status follows the reconciler: the new capture and its listener, the old one gone
    await expect
      .poll(() => proxy.status().clients.map((c) => [c.phase, c.target, c.listeners.length]))
      .toEqual([['captured', `netns:/run/netns/${lab.b.name}`, 1]]);
  });

  it('whenNoProxy direct: with the proxy gone the capture is removed; with it back, applied again', async () => {
    const { lab, proxy, docker, client, owner } = await start('direct');
    expect(captured(lab.a.name)).toBe(true);
    docker.set([client]);
    await expect.poll(() => proxy.status().clients.map((c) => c.phase)).toEqual(['direct']);
    expect(captured(lab.a.name)).toBe(false);
    docker.set([client, owner]);
    await expect.poll(() => captured(lab.a.name)).toBe(true);
    expect(proxy.status().clients.map((c) => c.phase)).toEqual(['captured']);
  });

  it('a client the runtime announces is captured before Docker lists it; one that cannot be is refused', async () => {
    const { lab, proxy, docker, client } = await start();
    const late = container('late', 'client', ['10.0.0.10'], lab.b.name);
    docker.starting(late);
    await proxy.announce(late.id, 42);
    expect(captured(lab.b.name)).toBe(true);
    const missing = container('missing', 'client', ['10.0.0.11'], 'swy-no-such-namespace');
    docker.starting(missing);
    await expect(proxy.announce(missing.id, 43)).rejects.toThrow(/metadata client missing not captured/);
    expect(proxy.status().clients.map((c) => c.name)).toEqual([client.name]);
  });
});

const standIn = standInUnavailable();

describeRequiring(standIn, 'metadata clients as capture units on Windows (HNS stand-in)', () => {
  const A = '0b4c2d7e-1f3a-4b5c-8d9e-0a1b2c3d4e5f';
  const B = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
  let stateDir: string | undefined;
  let echo: Server | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });
  let proxy: MetadataProxy | undefined;

  it('a first failed endpoint lookup is retried on the backoff; one shared host listener serves every client until the last goes', async () => {
    const library = buildStandIn();
    const paths = { computenetwork: library, vmcompute: library, ole32: library };
    const endpoint = (id: string, ip: string) => ({
      ID: id,
      IpConfigurations: [{ IpAddress: ip, PrefixLength: 24 }],
      Policies: [],
    });
    standInHooks(library).seed({
      Version: { Major: 15, Minor: 1 },
      Endpoints: [endpoint(A, '172.28.16.5'), endpoint(B, '172.28.16.6')],
      Namespaces: [],
    });
    stateDir = mkdtempSync(join(tmpdir(), 'swy-metadata-units-hns-'));
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
    const port = await freePort();
    const config = validateConfig(
      {
        identity: { caDir: '/ca' },
        metadataProxy: { port, proxyPort: (echo.address() as { port: number }).port },
      },
      '/etc',
    );
    const seen = new Set<string>();
    const find = hnsEndpointFinder(() => loadHcn(paths));
    const hnsClient = (name: string, ip: string) => ({
      ...container(name, 'client', [ip]),
      network: { kind: 'hns' as const, ip },
    });
    const clients = [hnsClient('win-a', '172.28.16.5'), hnsClient('win-b', '172.28.16.6')];
    const owner = container('proxy', 'proxy', ['127.0.0.1']);
    const docker = dockerListing([...clients, owner]);
    proxy = await MetadataProxy.start({
      config: config.metadataProxy!,
      bypass: { mark: 0x539, userSid: 'S-1-5-18' },
      driver: hnsDriver({ library: paths, stateDir }),
      // Each address's first lookup fails, as while HNS sets a container up.
      hnsEndpointOf: async (ip) => {
        if (seen.has(ip)) return find(ip);
        seen.add(ip);
        throw new Error(`no HNS endpoint has the address ${ip} yet`);
      },
      logger: silentLogger,
      retry: { initialMs: 50, maxMs: 200 },
      resyncMs: 60_000,
      watcher: docker.watcher,
    });
    const p = proxy;
    await expect
      .poll(() => p.status().clients.map((c) => [c.name, c.phase, c.target, c.listeners]))
      .toEqual([
        ['win-a', 'captured', `hns:${A}`, [`0.0.0.0:${port}`]],
        ['win-b', 'captured', `hns:${B}`, [`0.0.0.0:${port}`]],
      ]);
    const hcn = await loadHcn(paths);
    const policies = async (id: string) => ((await hcn.queryEndpoint(id, '{}')).Policies as unknown[]).length;
    expect([await policies(A), await policies(B)]).toEqual([1, 1]);
    const relayed = async () => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.end('through the host listener');
      let answer = '';
      for await (const chunk of s) answer += String(chunk);
      return answer;
    };
    expect(await relayed()).toBe('through the host listener');
    docker.set([clients[1]!, owner]);
    await expect.poll(() => policies(A)).toBe(0);
    expect(await relayed()).toBe('through the host listener'); // still serving win-b
    docker.set([owner]);
    await expect.poll(() => policies(B)).toBe(0);
    await expect.poll(() => p.status().clients).toEqual([]);
    await expect(relayed()).rejects.toThrow(/ECONNREFUSED/);
  });
});
