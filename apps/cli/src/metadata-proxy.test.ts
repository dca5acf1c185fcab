import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetadataProxyStatus } from '@switchyard/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './testing/run-cli.js';

/** What an agent with metadata proxying answers on /status (the shape the agent's own tests produce). */
const STATUS: MetadataProxyStatus = {
  docker: '/var/run/docker.sock',
  label: 'switchyard.io/metadata',
  endpoints: ['169.254.169.254:80'],
  whenNoProxy: 'refuse',
  proxy: { id: 'p1', name: 'msi-proxy', address: '172.17.0.5' },
  standby: [{ id: 'p0', name: 'msi-proxy-old' }],
  clients: [
    {
      id: 'c1',
      name: 'app-a',
      phase: 'captured',
      target: 'netns:/proc/4242/ns/net',
      listeners: ['0.0.0.0:15081'],
    },
    { id: 'c2', name: 'app-b', phase: 'failed', listeners: [], error: 'the network namespace is gone' },
  ],
  ignored: [{ id: 'c3', name: 'host-app', reason: "it uses the host's network, which is never captured" }],
  connections: { relayed: 12, refused: 1, failed: 0 },
  syncs: 3,
};

describe('switchyard metadata-proxy status', () => {
  let server: Server;
  let admin: string;
  let answer: unknown = { node: 'n', workloads: [], metadataProxy: STATUS };

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/status' ? JSON.stringify(answer) : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    admin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('prints the proxy, the clients and what is applied where; exit 1 while a client failed', async () => {
    const r = await cli('metadata-proxy', 'status', '--admin', admin);
    expect(r.stdout).toBe(
      [
        'docker /var/run/docker.sock · label switchyard.io/metadata · endpoints 169.254.169.254:80 · without a proxy: refuse',
        'proxy msi-proxy at 172.17.0.5 (standing by: msi-proxy-old)',
        'connections relayed 12, refused 1, failed 0',
        'CLIENT    PHASE     TARGET                   LISTENERS      ERROR',
        'app-a     captured  netns:/proc/4242/ns/net  0.0.0.0:15081',
        'app-b     failed    -                        -              the network namespace is gone',
        "host-app  ignored   -                        -              it uses the host's network, which is never captured",
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(1);
  });

  it("--json prints the agent's metadataProxy status as it is", async () => {
    answer = { metadataProxy: { ...STATUS, clients: [STATUS.clients[0]] } };
    const r = await cli('--json', 'metadata-proxy', 'status', '--admin', admin);
    expect(JSON.parse(r.stdout)).toEqual({ ...STATUS, clients: [STATUS.clients[0]] });
    expect(r.code).toBe(0);
  });

  it('says what to do when the agent does not proxy metadata, or does not answer, or --admin is wrong', async () => {
    answer = { node: 'n', workloads: [] };
    let r = await cli('metadata-proxy', 'status', '--admin', admin);
    expect(r.stderr).toBe(
      `switchyard: the agent at ${admin} does not proxy metadata; add a metadataProxy section to its config (docs/metadata-proxy.md) [SWY_ERR_RUNTIME_UNAVAILABLE]\n`,
    );
    expect(r.code).toBe(1);
    r = await cli('metadata-proxy', 'status', '--admin', '127.0.0.1:1');
    expect(r.stderr).toMatch(
      /^switchyard: no agent answers at http:\/\/127\.0\.0\.1:1\/status \(.+\); is switchyard-agent running/,
    );
    expect(r.code).toBe(1);
    r = await cli('metadata-proxy', 'status', '--admin', 'localhost');
    expect(r.stderr).toBe(
      'switchyard: --admin "localhost" is not HOST:PORT; write it like 127.0.0.1:15020 (the agent\'s admin.host and admin.port) [SWY_ERR_INPUT_INVALID]\n',
    );
    expect(r.code).toBe(2);
  });
});
