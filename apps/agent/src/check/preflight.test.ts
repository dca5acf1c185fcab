import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa } from '@switchyard/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../testing/agent-node-lab.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { writeKubeconfig } from '../testing/kube-fixtures.js';
import { preflight } from './preflight.js';

describe('switchyard-agent check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-check-'));
  let api: FakeKubeApi;
  let config: string;
  const byName = async () => Object.fromEntries((await preflight(config)).map((r) => [r.name, r]));

  beforeAll(async () => {
    api = await new FakeKubeApi().start();
    config = join(dir, 'agent.yaml');
    const kubeconfig = writeKubeconfig(dir, api.url);
    writeFileSync(
      config,
      JSON.stringify({
        node: 'n1',
        identity: { caDir: 'ca' },
        stateDir: 'state',
        admin: { port: await freePort() },
        source: { kind: 'kubernetes', kubeconfig },
      }),
    );
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks the config, the driver, the state directory, the admin port and the Kubernetes API', async () => {
    const results = await byName();
    expect(results.config?.ok).toBe(true);
    expect(results['state directory']?.ok).toBe(true);
    expect(results['admin port']?.ok).toBe(true);
    expect(results['driver tproxy']).toBeDefined();
    expect(results['kubernetes: list pods on n1']).toMatchObject({
      ok: true,
      message: `allowed at ${api.url}`,
    });
    expect(
      api.requests.some((r) => r.includes('fieldSelector=spec.nodeName%3Dn1') && r.includes('limit=1')),
    ).toBe(true);
  });

  it('says what RBAC is missing, with its fix, and that it blocks', async () => {
    api.forbidden.add('namespaces');
    const refused = (await byName())['kubernetes: list namespaces'];
    expect(refused).toMatchObject({
      ok: false,
      blocking: true,
      message: expect.stringMatching(/refused \(403\)/),
    });
    expect(refused?.fix).toMatch(/deploy\/kubernetes\/rbac\.yaml/);
  });

  it('checks that Services and EndpointSlices may be listed (the Service watch), and says so when not', async () => {
    const allowed = await byName();
    expect(allowed['kubernetes: list services']).toMatchObject({ ok: true });
    expect(allowed['kubernetes: list endpointslices']).toMatchObject({ ok: true });
    api.forbidden.add('endpointslices');
    const refused = (await byName())['kubernetes: list endpointslices'];
    api.forbidden.delete('endpointslices');
    expect(refused).toMatchObject({
      ok: false,
      blocking: true,
      message: expect.stringMatching(/refused \(403\)/),
    });
    expect(refused?.fix).toMatch(/list, watch on services and endpointslices/);
  });

  it('fails, blocking, with the fix, while the CA directory holds no CA; passes once it does', async () => {
    const missing = (await byName()).identity;
    expect(missing).toMatchObject({
      ok: false,
      blocking: true,
      message: expect.stringMatching(/holds no development CA/),
    });
    expect(missing?.fix).toMatch(/switchyard ca init --dir .*ca --trust-domain cluster\.local/);
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'example.org' });
    expect((await byName()).identity).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /issues for trust domain example\.org, but the agent's is cluster\.local/,
      ),
    });
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local', force: true });
    expect((await byName()).identity).toMatchObject({
      ok: true,
      message: expect.stringMatching(/issues for cluster\.local until/),
    });
  });

  it('fails on a certificate directory that cannot be read', async () => {
    const certs = join(dir, 'certs.yaml');
    writeFileSync(
      certs,
      JSON.stringify({
        identity: { certDir: join(dir, 'no-such-dir', '{namespace}', '{serviceAccount}') },
        stateDir: 'state',
        admin: { port: await freePort() },
      }),
    );
    writeFileSync(join(dir, 'workloads.yaml'), 'workloads: []\n');
    const results = Object.fromEntries((await preflight(certs)).map((r) => [r.name, r]));
    expect(results.identity).toMatchObject({
      ok: false,
      blocking: true,
      message: expect.stringMatching(/no-such-dir/),
    });
  });

  it('changes nothing: a state directory that does not exist is judged by its parent, not created', async () => {
    const results = await byName();
    expect(results['state directory']).toMatchObject({
      ok: true,
      message: `${join(dir, 'state')} does not exist yet; the agent can create it in ${dir}`,
    });
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('empty meshCidrs blocks (every outbound connection would be refused); with passthrough it only warns', async () => {
    const results = await byName();
    expect(results['mesh addresses']).toMatchObject({ ok: false, blocking: true });
    expect(results['mesh addresses']?.message).toMatch(/every outbound connection .* would be refused/);
    const passthrough = join(dir, 'passthrough.yaml');
    writeFileSync(passthrough, 'identity: { caDir: ca }\npassthroughOutsideMesh: true\nstateDir: state\n');
    const mesh = (await preflight(passthrough)).find((r) => r.name === 'mesh addresses');
    expect(mesh).toMatchObject({ ok: false, blocking: false, fix: expect.stringMatching(/pod CIDR/) });
    const meshed = join(dir, 'meshed.yaml');
    writeFileSync(meshed, 'identity: { caDir: ca }\nmeshCidrs: [10.244.0.0/16]\nstateDir: state\n');
    expect((await preflight(meshed)).find((r) => r.name === 'mesh addresses')).toMatchObject({
      ok: true,
      message: 'outbound connections to 10.244.0.0/16 go over the mesh',
    });
  });

  it('reports a broken config as the one blocking problem', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'identity: {}\n');
    const results = await preflight(bad);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: 'config', ok: false, blocking: true });
  });
});
