import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatus } from '../agent.js';
import type { ServiceReport } from '../services/service-report.js';
import { freePort } from '../testing/agent-node-lab.js';
import { run } from './program.js';

const API: ServiceReport = {
  service: 'web/api',
  clusterIPs: ['10.96.0.10'],
  headless: false,
  ports: [
    {
      name: 'http',
      port: 80,
      targetPort: 'web',
      endpoints: [
        {
          address: '10.0.0.1',
          port: 8080,
          pod: 'web/a',
          node: 'n1',
          ready: true,
          serving: true,
          terminating: false,
          identity: 'spiffe://cluster.local/ns/web/sa/api',
          state: 'mesh',
        },
        {
          address: '10.0.0.2',
          port: 9090,
          pod: 'web/b',
          node: 'n2',
          ready: false,
          serving: true,
          terminating: true,
          identity: 'spiffe://cluster.local/ns/web/sa/api',
          state: 'mesh',
        },
        {
          address: '10.0.0.3',
          port: 8080,
          ready: true,
          serving: true,
          terminating: false,
          state: 'unverified',
        },
        {
          address: '10.0.0.4',
          port: 8080,
          pod: 'web/x',
          ready: true,
          serving: true,
          terminating: false,
          identity: 'spiffe://cluster.local/ns/web/sa/legacy',
          state: 'plain',
        },
      ],
    },
  ],
};

describe('switchyard-agent status --service NS/NAME', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-svc-status-'));
  const asked: string[] = [];
  let watching = true;
  let server: Server;
  let config: string;

  async function agent(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    const port = await freePort();
    // An admin endpoint answering as the agent's does: `service` present when asked and watched, null when unknown.
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      asked.push(`${url.pathname}${url.search}`);
      const wanted = url.searchParams.get('service');
      const status: AgentStatus = {
        node: 'n1',
        pid: 1,
        version: '0.1.0',
        source: watching ? 'kubernetes' : 'file',
        driver: 'tproxy',
        ready: true,
        workloads: [],
        ...(wanted && watching ? { service: wanted === API.service ? API : null } : {}),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
    }).listen(port, '127.0.0.1');
    config = join(dir, 'agent.yaml');
    writeFileSync(config, `identity: { caDir: ca }\nadmin: { port: ${port} }\n`);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows each endpoint with its port, pod, node, state and pinned identity', async () => {
    const r = await agent('status', '--service', 'web/api', '--config', config);
    expect(r.code).toBe(0);
    expect(asked.at(-1)).toBe('/status?service=web%2Fapi');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('service web/api · 10.96.0.10');
    expect(lines[1]).toMatch(/^PORT\s+ENDPOINT\s+POD\s+NODE\s+STATE\s+IDENTITY$/);
    expect(lines[2]).toMatch(
      /^http 80→web\s+10\.0\.0\.1:8080\s+web\/a\s+n1\s+ready\s+spiffe:\/\/cluster\.local\/ns\/web\/sa\/api$/,
    );
    expect(lines[3]).toMatch(/10\.0\.0\.2:9090\s+web\/b\s+n2\s+terminating\s+spiffe:/);
    expect(lines[4]).toMatch(
      /10\.0\.0\.3:8080\s+-\s+-\s+ready\s+- \(unverified: pod unknown or stale; refused\)$/,
    );
    expect(lines[5]).toMatch(
      /10\.0\.0\.4:8080\s+web\/x\s+-\s+ready\s+spiffe:\S+\/sa\/legacy \(outside the mesh\)$/,
    );
  });

  it('prints the report as JSON with --json', async () => {
    const r = await agent('status', '--service', 'web/api', '--json', '--config', config);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(API);
  });

  it('a Service the agent does not know, or an agent that watches none, exits 1 saying which', async () => {
    const unknown = await agent('status', '--service', 'web/nope', '--config', config);
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'switchyard-agent: the agent knows no Service web/nope\n',
    ]);
    watching = false;
    const none = await agent('status', '--service', 'web/api', '--config', config);
    watching = true;
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('this agent does not watch Services (its source is file');
  });

  it('a malformed --service exits 2 before asking the agent, without a stack trace', async () => {
    const before = asked.length;
    for (const bad of ['api', 'Web/api', 'web/api/x', '/api', `web/${'a'.repeat(70)}`]) {
      const r = await agent('status', '--service', bad, '--config', config);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not NAMESPACE\/NAME/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(asked.length).toBe(before);
  });
});
