import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { silentLogger } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { createLab, describePrivileged, type Lab } from '@switchyard/driver-tproxy/testing';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { MetadataCaller } from '../config/agent-config.js';
import { validateConfig } from '../config/validate-config.js';
import { freePort } from '../testing/agent-node-lab.js';
import { type CallerEcho, haproxyUnavailable, startCallerEcho } from '../testing/haproxy-caller.js';
import { metadataContainer as container, listedBy } from '../testing/listed-containers.js';
import { MetadataProxy } from './metadata-proxy.js';

// Who the metadata proxy sees as the caller, end to end: a client in a namespace of its own
// whose connections to 169.254.169.254:80 the tproxy driver captures, the real MetadataProxy
// and data plane, and haproxy as the proxy container (an independent server that reports the
// caller from the TCP connection, or from the PROXY v2 header it parses). Only Docker's
// container list is stood in for: it names the two namespaces as containers.

const run = promisify(execFile);

describePrivileged('metadata proxying: the caller the proxy sees (namespaces, haproxy)', () => {
  let lab: Lab;
  const cleanups: (() => unknown)[] = [];
  beforeAll(() => {
    const missing = haproxyUnavailable();
    if (missing) throw new Error(missing);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A client namespace and the proxy (haproxy) where `proxyIn` says; the metadata proxy in `caller` mode. */
  async function node(caller: MetadataCaller, proxyIn: 'peer-namespace' | 'agent-loopback') {
    lab = createLab();
    cleanups.push(() => lab.destroy());
    // The client reaches the metadata address through its only link, as a container does through its bridge.
    lab.run(lab.a.name, 'ip', 'route', 'add', 'default', 'via', lab.b.v4);
    const port = await freePort();
    const echo: CallerEcho =
      proxyIn === 'peer-namespace'
        ? await startCallerEcho({ address: lab.b.v4, port, acceptProxy: false, netns: lab.b.name })
        : await startCallerEcho({ address: '127.0.0.1', port, acceptProxy: caller === 'proxy-v2' });
    cleanups.push(() => echo.stop());
    const config = validateConfig(
      { identity: { caDir: '/ca' }, metadataProxy: { caller, proxyPort: port, port: await freePort() } },
      '/etc',
    );
    const driver = tproxyDriver();
    const proxy = await MetadataProxy.start({
      config: config.metadataProxy!,
      bypass: config.bypass,
      driver,
      logger: silentLogger,
      retry: { initialMs: 50, maxMs: 200 },
      resyncMs: 60_000,
      watcher: listedBy([
        container('client', 'client', [lab.a.v4], lab.a.name),
        container('proxy', 'proxy', [echo.address]),
      ]),
    });
    cleanups.push(() => proxy.close());
    expect(proxy.status().clients.map((c) => c.phase)).toEqual(['captured']);
    return proxy;
  }

  /** The client asks the metadata endpoint (curl in its namespace, without blocking the event loop). */
  async function ask(): Promise<string> {
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      lab.a.name,
      'curl',
      '-sS',
      '--max-time',
      '5',
      'http://169.254.169.254/metadata/instance',
    ]);
    return stdout.trim();
  }

  it('source: the proxy sees the client’s own address (dialled from its namespace), and the bytes carry no header', async () => {
    const proxy = await node('source', 'peer-namespace');
    expect(await ask()).toMatch(
      new RegExp(
        `^caller ${lab.a.v4.replaceAll('.', '\\.')}:\\d+ asked ${lab.b.v4.replaceAll('.', '\\.')}:\\d+$`,
      ),
    );
    expect(proxy.status()).toMatchObject({ caller: 'source', connections: { relayed: 1, failed: 0 } });
  });

  it('proxy-v2: haproxy reads the client’s address and the endpoint it asked for from the PROXY v2 header', async () => {
    await node('proxy-v2', 'agent-loopback');
    expect(await ask()).toMatch(
      new RegExp(`^caller ${lab.a.v4.replaceAll('.', '\\.')}:\\d+ asked 169\\.254\\.169\\.254:80$`),
    );
  });

  it('agent (the default): the proxy sees the agent’s side, not the client', async () => {
    await node('agent', 'agent-loopback');
    expect(await ask()).toMatch(/^caller 127\.0\.0\.1:\d+ asked 127\.0\.0\.1:\d+$/);
  });
});
