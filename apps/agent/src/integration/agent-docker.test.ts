import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '@switchyard/dataplane';
import { hnsDriver, loadHcn } from '@switchyard/driver-hns';
import { buildStandIn, standInHooks } from '@switchyard/driver-hns/testing';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { initCa } from '@switchyard/mesh';
import { describeRequiring } from '@switchyard/test-kit';
import Docker from 'dockerode';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent, type AgentStatus } from '../agent.js';
import { dockerReachable } from '../check/docker-reachable.js';
import type { MetadataProxyConfig } from '../config/agent-config.js';
import { validateConfig } from '../config/validate-config.js';
import { MetadataProxy } from '../metadata/metadata-proxy.js';
import { type HnsEndpointFinder, hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import { dockerSource } from '../sources/docker-source.js';
import type { Workload } from '../sources/workload.js';
import { freePort } from '../testing/agent-node-lab.js';
import {
  createDockerLab,
  type DockerLab,
  dockerLabUnavailable,
  httpGet,
  LAB_IMAGE,
  LAB_NETWORK,
} from '../testing/docker-lab.js';
import { promptly } from '../testing/promptly.js';
import { type SocketRelay, startSocketRelay } from '../testing/socket-relay.js';
import { uninstall } from '../uninstall.js';

const reason = dockerLabUnavailable();
const LABEL = 'switchyard.io/metadata';
/** busybox httpd serving the lab image's /www (its CGI reports who called) in the foreground. */
const HTTPD = ['httpd', '-f', '-p', '80', '-h', '/www'];

describeRequiring(reason, 'Docker workloads and metadata proxying against a real dockerd', () => {
  let lab: DockerLab;
  let relay: SocketRelay;
  let proxy: MetadataProxy | undefined;
  let start: (
    name: string,
    labels: Record<string, string>,
    mark?: string,
    command?: string[],
  ) => Promise<StartedTestContainer>;
  const clients: StartedTestContainer[] = [];
  let firstProxyAddress = '';
  let plain: StartedTestContainer;
  const config = (extra: Record<string, unknown> = {}): MetadataProxyConfig =>
    validateConfig({ identity: { caDir: 'ca' }, metadataProxy: { docker: relay.path, ...extra } }, lab.dir)
      .metadataProxy as MetadataProxyConfig;
  const startProxy = (extra?: Record<string, unknown>) =>
    MetadataProxy.start({
      config: config(extra),
      bypass: { mark: 0x539 },
      driver: tproxyDriver(),
      logger: jsonLogger({ level: 'error' }),
      retry: { initialMs: 50, maxMs: 200 },
      resyncMs: 60_000,
      docker: new Docker({ socketPath: relay.path }),
    });
  /** What a container gets from the metadata endpoint: the body, or `blocked` (reset, or no answer). */
  const fetchIn = async (c: StartedTestContainer) => {
    const r = await c.exec(httpGet('169.254.169.254', '/metadata/instance'));
    const body = r.output.trim();
    return r.exitCode === 0 && body !== '' && !body.startsWith('nc:') ? body : 'blocked';
  };
  const address = (c: StartedTestContainer) => c.getIpAddress(LAB_NETWORK.name);
  /** Followed on Docker's events: the resync (resyncMs, 60 s) is far later than {@link PROMPTLY_MS}. */
  const followed = (check: () => Promise<boolean>) => promptly(check, true, 100);
  /** An endpoint finder whose first lookup of each address fails, as while HNS sets a container up. */
  const notAtFirst = (find: HnsEndpointFinder): HnsEndpointFinder => {
    const seen = new Set<string>();
    return async (ip) => {
      if (seen.has(ip)) return find(ip);
      seen.add(ip);
      throw new Error(`no HNS endpoint has the address ${ip} yet`);
    };
  };
  const clientsGet = (body: string) => async () =>
    (await Promise.all(clients.map(fetchIn))).every((b) => b === body);

  beforeAll(async () => {
    lab = await createDockerLab();
    relay = await startSocketRelay(join(lab.dir, 'relay.sock'), lab.socket);
    process.env.DOCKER_HOST = `unix://${lab.socket}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
    const { GenericContainer } = await import('testcontainers');
    start = (name, labels, mark, command) =>
      new GenericContainer(LAB_IMAGE)
        .withName(name)
        .withLabels(labels)
        .withNetworkMode(LAB_NETWORK.name)
        .withEnvironment(mark ? { MARK: mark } : {})
        .withCommand(command ?? (mark ? ['nc', '-ll', '-p', '80', '-e', '/proxy.sh'] : ['sleep', '3600']))
        .start();
    clients.push(await start('sy13-client-a', { [LABEL]: 'client' }));
    clients.push(await start('sy13-client-b', { [LABEL]: 'client' }));
    plain = await start('sy13-unlabelled', {});
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await relay?.close();
    await lab?.destroy();
  }, 60_000);

  it('clients get the proxy-marked response; the unlabelled container reaches the endpoint itself', async () => {
    const a = await start('sy13-proxy-a', { [LABEL]: 'proxy' }, 'proxy-a');
    proxy = await startProxy();
    firstProxyAddress = address(a);
    expect(await Promise.all(clients.map(fetchIn))).toEqual([
      'metadata-standin via proxy-a',
      'metadata-standin via proxy-a',
    ]);
    expect(await fetchIn(plain)).toBe('metadata-standin');
    const status = proxy.status();
    expect(status.proxy).toMatchObject({ name: 'sy13-proxy-a', address: address(a) });
    expect(status.clients.map((c) => [c.name, c.phase])).toEqual([
      ['sy13-client-a', 'captured'],
      ['sy13-client-b', 'captured'],
    ]);
    expect(status.clients[0]?.target).toMatch(/^netns:\/proc\/\d+\/ns\/net$/);
    expect(status.clients[0]?.listeners).toEqual(['0.0.0.0:15081']);
    expect(status.connections.relayed).toBe(2);
    // the clients' networks hold the capture table; the unlabelled container's holds none of ours
    const tables = async (c: StartedTestContainer) => {
      const pid = (await lab.docker.getContainer(c.getId()).inspect()).State.Pid;
      return execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'nft', 'list', 'tables'], {
        encoding: 'utf8',
      });
    };
    expect(await tables(clients[0]!)).toMatch(/switchyard/);
    expect(await tables(plain)).not.toMatch(/switchyard/);
  });

  it("a replacement proxy at a new address is followed on Docker's events, and so is a restart", async () => {
    const b = await start('sy13-proxy-b', { [LABEL]: 'proxy' }, 'proxy-b');
    await followed(clientsGet('metadata-standin via proxy-b'));
    await lab.docker
      .getContainer((await lab.docker.listContainers({ filters: { name: ['sy13-proxy-a'] } }))[0]!.Id)
      .stop({ t: 0 });
    expect(proxy!.status().proxy).toMatchObject({ name: 'sy13-proxy-b', address: address(b) });
    expect(address(b)).not.toBe(firstProxyAddress);
    await b.restart({ timeout: 0 });
    await followed(clientsGet('metadata-standin via proxy-b'));
  });

  it('with no proxy the clients cannot reach the endpoint (fail closed); the unlabelled one still can', async () => {
    await lab.docker
      .getContainer((await lab.docker.listContainers({ filters: { name: ['sy13-proxy-b'] } }))[0]!.Id)
      .stop({ t: 0 });
    await followed(clientsGet('blocked'));
    expect(await fetchIn(plain)).toBe('metadata-standin');
    expect(proxy!.status().proxy).toBeUndefined();
    expect(proxy!.status().connections.refused).toBeGreaterThanOrEqual(2);
  });

  it('a cut event stream resyncs: a proxy started while it was cut is found; a restarted client is captured again', async () => {
    const before = proxy!.status().syncs;
    relay.cut();
    const c = await start('sy13-proxy-c', { [LABEL]: 'proxy' }, 'proxy-c');
    expect(await fetchIn(clients[0]!)).toBe('blocked'); // the agent has not seen it yet
    relay.restore();
    await followed(clientsGet('metadata-standin via proxy-c'));
    expect(proxy!.status().syncs).toBeGreaterThan(before);
    expect(proxy!.status().proxy?.address).toBe(address(c));
    await clients[1]!.restart({ timeout: 0 }); // a new process, a new namespace: captured again
    await followed(clientsGet('metadata-standin via proxy-c'));
  });

  it('stays closed while stopped, and a restart misses nothing that happened meanwhile', async () => {
    await proxy!.close();
    proxy = undefined;
    expect(await fetchIn(clients[0]!)).toBe('blocked'); // rules stay, no relay: refused, never direct
    clients.push(await start('sy13-client-late', { [LABEL]: 'client' }));
    proxy = await startProxy();
    expect(await Promise.all(clients.map(fetchIn))).toEqual(
      clients.map(() => 'metadata-standin via proxy-c'),
    );
    expect(proxy.status().clients.map((c) => c.name)).toContain('sy13-client-late');
  });

  it('whenNoProxy: direct lets clients reach the endpoint themselves while no proxy runs', async () => {
    await proxy!.close();
    proxy = await startProxy({ whenNoProxy: 'direct' });
    await lab.docker
      .getContainer((await lab.docker.listContainers({ filters: { name: ['sy13-proxy-c'] } }))[0]!.Id)
      .stop({ t: 0 });
    await followed(clientsGet('metadata-standin'));
    // the rules go first, the status follows once the reconciler has recorded the removal
    await expect.poll(() => proxy!.status().clients.every((c) => c.phase === 'direct')).toBe(true);
  });

  it('caller: source — the proxy container sees each client’s own address; by default it sees the agent’s side', async () => {
    await proxy?.close();
    const e = await start('sy13-proxy-e', { [LABEL]: 'proxy' }, undefined, HTTPD);
    const callers = async () =>
      Promise.all(
        clients.map(async (c) =>
          // busybox httpd names an IPv4 caller [::ffff:a.b.c.d]
          (await c.exec(httpGet('169.254.169.254', '/cgi-bin/caller'))).output
            .trim()
            .replace(/^caller \[(?:::ffff:)?(.*)\]$/, 'caller $1'),
        ),
      );
    try {
      proxy = await startProxy({ caller: 'source' });
      expect(await callers()).toEqual(clients.map((c) => `caller ${address(c)}`));
      await proxy.close();
      proxy = await startProxy();
      const seen = await callers();
      expect(seen[0]).toMatch(/^caller \d+\.\d+\.\d+\.\d+$/);
      expect(seen).toEqual(clients.map(() => seen[0])); // one address for every client: the agent's
      expect(clients.map((c) => `caller ${address(c)}`)).not.toContain(seen[0]);
    } finally {
      await e.stop({ timeout: 0 });
    }
  });

  it('Windows path: clients Docker reports get the L4WFPPROXY policy through koffi (HNS stand-in); the host relay reaches the proxy', async () => {
    await proxy?.close();
    proxy = undefined;
    const d = await start('sy13-proxy-d', { [LABEL]: 'proxy' }, 'proxy-d');
    const library = buildStandIn();
    const paths = { computenetwork: library, vmcompute: library, ole32: library };
    const ids = new Map([...clients, plain, d].map((c) => [c.getName().replace(/^\//, ''), randomUUID()]));
    standInHooks(library).seed({
      Version: { Major: 15, Minor: 1 },
      Endpoints: [...clients, plain, d].map((c) => ({
        ID: ids.get(c.getName().replace(/^\//, '')),
        IpConfigurations: [{ IpAddress: address(c), PrefixLength: 24 }],
        Policies: [],
      })),
      Namespaces: [],
    });
    const stateDir = mkdtempSync(join(tmpdir(), 'sy13-hns-state-'));
    const port = await freePort();
    const windows = await MetadataProxy.start({
      config: config({ port }),
      bypass: { mark: 0x539, userSid: 'S-1-5-18' },
      driver: hnsDriver({ library: paths, stateDir }),
      hnsEndpointOf: notAtFirst(hnsEndpointFinder(() => loadHcn(paths))),
      platform: 'win32',
      logger: jsonLogger({ level: 'error' }),
      retry: { initialMs: 50, maxMs: 200 },
      resyncMs: 60_000,
      docker: new Docker({ socketPath: relay.path }),
    });
    try {
      // Each client's first lookup failed (an endpoint not up yet): retried on the backoff, not
      // at the resync a minute later. A failure shows its reason in the comparison.
      await promptly(
        () =>
          windows
            .status()
            .clients.map((c) => [c.name, c.phase, c.target, c.listeners, c.error ?? 'no error']),
        clients.map((c) => {
          const name = c.getName().replace(/^\//, '');
          return [name, 'captured', `hns:${ids.get(name)}`, [`0.0.0.0:${port}`], 'no error'];
        }),
      );
      const hcn = await loadHcn(paths);
      const policies = async (name: string) => (await hcn.queryEndpoint(ids.get(name)!, '{}')).Policies;
      for (const c of clients)
        expect(await policies(c.getName().replace(/^\//, ''))).toEqual([
          {
            Type: 'L4WFPPROXY',
            Settings: {
              OutboundProxyPort: String(port),
              FilterTuple: { Protocols: '6', RemoteAddresses: '169.254.169.254', RemotePorts: '80' },
              UserSID: 'S-1-5-18',
              OutboundExceptions: { IpAddressExceptions: ['127.0.0.1'] },
            },
          },
        ]);
      expect(await policies('sy13-unlabelled')).toEqual([]);
      expect(await policies('sy13-proxy-d')).toEqual([]);
      // what HNS hands the host's listener is relayed to the proxy container
      const socket = connect(port, '127.0.0.1');
      socket.end('GET /metadata/instance HTTP/1.0\r\n\r\n');
      let answer = '';
      for await (const chunk of socket) answer += String(chunk);
      expect(answer).toMatch(/X-Proxied-By: proxy-d\r\n\r\nmetadata-standin via proxy-d\n$/);
    } finally {
      await windows.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('the agent runs it: /status shows it, stopping stays closed, --uninstall removes the captures', async () => {
    const dir = join(lab.dir, 'agent');
    mkdirSync(dir);
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    writeFileSync(join(dir, 'workloads.yaml'), 'workloads: []\n');
    const adminPort = await freePort();
    const agentConfig = validateConfig(
      {
        identity: { caDir: 'ca' },
        stateDir: 'state',
        admin: { port: adminPort },
        families: ['ipv4'],
        drainSeconds: 0,
        metadataProxy: { docker: relay.path },
      },
      dir,
    );
    const logger = jsonLogger({ level: 'error' });
    expect(await dockerReachable(agentConfig)).toEqual([
      {
        name: 'docker',
        ok: true,
        blocking: false,
        message: expect.stringMatching(/^Docker \d+\.\d+\.\d+\S* \(API 1\.\d+\) at .*relay\.sock$/),
      },
    ]);
    const agent = await Agent.start(agentConfig, { driver: tproxyDriver(), logger });
    try {
      const status = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as AgentStatus;
      expect(status.metadataProxy?.proxy?.name).toBe('sy13-proxy-d');
      expect(status.metadataProxy?.clients.map((c) => c.phase)).toEqual(clients.map(() => 'captured'));
      expect(await Promise.all(clients.map(fetchIn))).toEqual(
        clients.map(() => 'metadata-standin via proxy-d'),
      );
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      expect(metrics).toContain(
        `switchyard_agent_metadata_connections_total{outcome="relayed"} ${clients.length}\n`,
      );
      expect(metrics).toContain(`switchyard_agent_metadata_clients{phase="captured"} ${clients.length}\n`);
      expect(metrics).toContain('switchyard_agent_metadata_proxy 1\n');
    } finally {
      await agent.stop();
    }
    expect(await fetchIn(clients[0]!)).toBe('blocked');
    const pids = await Promise.all(
      clients.map(async (c) => (await lab.docker.getContainer(c.getId()).inspect()).State.Pid),
    );
    const result = await uninstall(agentConfig, tproxyDriver());
    expect(result.removed.sort()).toEqual(pids.map((pid) => `netns:/proc/${pid}/ns/net`).sort());
    expect(await Promise.all(clients.map(fetchIn))).toEqual(clients.map(() => 'metadata-standin'));
  });

  it('the docker source: containers that opt in become workloads in their own namespace; a cut stream resyncs', async () => {
    const problems: string[] = [];
    const snapshots: Workload[][] = [];
    const source = dockerSource(
      {
        socket: relay.path,
        label: 'switchyard.io/capture',
        retry: { initialMs: 50, maxMs: 200 },
        resyncMs: 60_000,
      },
      jsonLogger({ level: 'error' }),
    );
    await source.start({ snapshot: (w) => snapshots.push([...w]), problem: (p) => problems.push(p) });
    try {
      expect(snapshots.at(-1)).toEqual([]); // the metadata labels opt nobody into the mesh
      const web = await start('sy13-web', {
        'switchyard.io/capture': 'enabled',
        'switchyard.io/namespace': 'shop',
      });
      const pid = (await lab.docker.getContainer(web.getId()).inspect()).State.Pid;
      await expect
        .poll(() => snapshots.at(-1)?.map((w) => [w.id, w.serviceAccount, w.network, w.ips]))
        .toEqual([['shop/sy13-web', 'default', { pid }, [address(web)]]]);
      relay.cut();
      await web.stop({ timeout: 0 });
      relay.restore();
      await expect.poll(() => snapshots.at(-1)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it('the docker source feeds the agent: two opted-in containers are captured and talk over HBONE; a metadata client in the mesh is left to it', async () => {
    const dir = join(lab.dir, 'mesh');
    mkdirSync(dir);
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    const adminPort = await freePort();
    const meshConfig = validateConfig(
      {
        identity: { caDir: 'ca' },
        source: { kind: 'docker', socket: relay.path },
        metadataProxy: { docker: relay.path },
        meshCidrs: [LAB_NETWORK.subnet],
        // families left at the default (both): the lab's network has no IPv6, as Docker's
        // default bridge has none, so each container is captured for IPv4 alone.
        stateDir: 'state',
        admin: { port: adminPort },
        drainSeconds: 0,
      },
      dir,
    );
    const opted = { 'switchyard.io/capture': 'enabled', 'switchyard.io/namespace': 'shop' };
    const server = await start('sy13-mesh-server', opted, undefined, HTTPD);
    const client = await start('sy13-mesh-client', { ...opted, [LABEL]: 'client' });
    const agent = await Agent.start(meshConfig, {
      driver: tproxyDriver(),
      logger: jsonLogger({ level: 'error' }),
    });
    try {
      expect(agent.status().workloads.map((w) => [w.id, w.phase, w.carrier])).toEqual([
        ['shop/sy13-mesh-client', 'captured', 'hbone-native'],
        ['shop/sy13-mesh-server', 'captured', 'hbone-native'],
      ]);
      expect((await client.exec(httpGet(address(server), '/index.html'))).output).toBe('hello from the app');
      // also a metadata client: left to the mesh, and said why (tproxy holds one policy per namespace)
      expect(agent.status().metadataProxy?.ignored).toEqual([
        {
          id: client.getId(),
          name: 'sy13-mesh-client',
          reason:
            'it is captured by the mesh (switchyard.io/capture=enabled), and the driver holds one policy per network',
        },
      ]);
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text())
        .toMatch(
          /switchyard_connections_total\{workload="shop\/sy13-mesh-server",carrier="hbone-native",direction="inbound",outcome="spliced"\} 1/,
        );
    } finally {
      await agent.stop();
      await uninstall(meshConfig, tproxyDriver());
    }
  });
});
