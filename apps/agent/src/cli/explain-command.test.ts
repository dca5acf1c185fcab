import {
  type AdminServer,
  createDataPlaneMetrics,
  silentLogger,
  startAdminServer,
} from '@switchyard/dataplane';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../config/agent-config.js';
import { explain } from '../policy/explain.js';
import { explainRoute } from '../policy/explain-route.js';
import { PolicyAuthorizer } from '../policy/policy-authorizer.js';
import { PolicyStore } from '../policy/policy-store.js';
import { explainCommand } from './explain-command.js';

describe('switchyard-agent explain, through the admin endpoint', () => {
  let admin: AdminServer;
  const store = new PolicyStore({
    rootNamespace: 'istio-system',
    defaultMtls: 'STRICT',
    logger: silentLogger,
  });
  const authorizer = new PolicyAuthorizer(store, new Registry());
  const lookups = {
    workloads: () => [
      { id: 'web/api', addresses: ['10.0.0.9'], spiffeId: 'spiffe://cluster.local/ns/web/sa/api' },
    ],
    identityOf: (a: string) => (a === '10.0.0.5' ? 'spiffe://cluster.local/ns/web/sa/client' : undefined),
    pod: (id: string) =>
      id === 'web/client'
        ? { address: '10.0.0.5', spiffeId: 'spiffe://cluster.local/ns/web/sa/client' }
        : undefined,
  };
  const run = async (from: string, to: string, json = false) => {
    let stdout = '';
    let stderr = '';
    const config = { admin: { host: '127.0.0.1', port: admin.port } } as AgentConfig;
    const code = await explainCommand(
      config,
      from,
      to,
      { json },
      {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        env: {},
      },
    );
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    store.replace([
      {
        kind: 'AuthorizationPolicy',
        object: {
          metadata: { name: 'only-client', namespace: 'web' },
          spec: {
            rules: [
              { from: [{ source: { principals: ['cluster.local/ns/web/sa/client'] } }] },
              { to: [{ operation: { methods: ['GET'] } }] },
            ],
          },
        },
      },
    ]);
    authorizer.setWorkloads([{ id: 'web/api', namespace: 'web', labels: {} }]);
    admin = await startAdminServer(
      {
        metrics: createDataPlaneMetrics(),
        ready: true,
        routes: { '/explain': (q) => explainRoute((f, t) => explain(f, t, lookups, authorizer), q) },
      },
      { port: 0 },
    );
  });
  afterAll(() => admin?.close());

  it('allowed: exit 0, the deciding policy marked, its warnings shown', async () => {
    const r = await run('web/client', 'web/api:8080');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'web/client 10.0.0.5 (spiffe://cluster.local/ns/web/sa/client) → web/api 10.0.0.9:8080',
    );
    expect(r.stdout).toContain('ALLOWED: allowed by ALLOW policy web/only-client');
    expect(r.stdout).toMatch(/→ ALLOW web\/only-client/);
    expect(r.stdout).toContain('HTTP attributes (methods) cannot be checked at L4');
  });

  it('denied: exit 1; plain TCP from an unknown address is shown as such; --json gives the decision', async () => {
    const r = await run('192.168.1.5', '10.0.0.9:8080', true);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      allowed: false,
      policy: 'istio-system/(default STRICT)',
      from: { address: '192.168.1.5' },
      to: { workload: 'web/api', port: 8080 },
    });
  });

  it('from a bare SPIFFE ID: decided on the identity alone, the missing address said', async () => {
    const allowed = await run('spiffe://cluster.local/ns/web/sa/client', 'web/api:8080');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('spiffe://cluster.local/ns/web/sa/client → web/api 10.0.0.9:8080');
    expect(allowed.stdout).toContain('ALLOWED: allowed by ALLOW policy web/only-client');
    expect(allowed.stdout).toContain('note: a SPIFFE ID without an address');
    const denied = await run('spiffe://cluster.local/ns/web/sa/evil', 'web/api:8080', true);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({
      allowed: false,
      from: { address: '', peer: 'spiffe://cluster.local/ns/web/sa/evil' },
    });
    const bad = await run('spiffe://cluster.local/web/evil', 'web/api:8080');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain('is not a workload SPIFFE ID');
  });

  it('bad input: exit 2 and the reason, nothing else', async () => {
    expect(await run('web/nobody', 'web/api:8080')).toMatchObject({ code: 2, stdout: '' });
    const r = await run('web/client', 'web/db:80');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('web/db is not a workload this agent serves');
  });
});
