import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupWorkload } from '@switchyard/cri';
import { type ContainerdLab, containerdUnavailable, startContainerd } from '@switchyard/cri/testing';
import { initCa } from '@switchyard/mesh';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../testing/agent-node-lab.js';
import { type AgentProcess, agentStatus, startAgentProcess } from '../testing/agent-process.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import {
  endpointSliceObject,
  namespaceObject,
  podObject,
  serviceObject,
  writeKubeconfig,
} from '../testing/kube-fixtures.js';
import { promptly } from '../testing/promptly.js';

const reason = containerdUnavailable();

/** The nft tables in a network namespace file, or undefined when the file is gone. */
function tablesIn(netnsPath: string): string[] | undefined {
  if (!existsSync(netnsPath)) return undefined;
  return execFileSync('nsenter', [`--net=${netnsPath}`, '--', 'nft', 'list', 'tables'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);
}

describeRequiring(reason, 'the agent on Kubernetes pods (containerd lab, list/watch fake)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-agent-k8s-'));
  let lab: ContainerdLab;
  let api: FakeKubeApi;
  let agent: AgentProcess;
  let adminPort: number;
  const pods: Record<string, { container: string; ip: string; netns: string; sandbox: string }> = {};
  const phase = async (id: string) => (await agentStatus(adminPort)).workloads.find((w) => w.id === id);

  beforeAll(async () => {
    if (reason) throw new Error(`cannot run in CI: ${reason}`);
    [lab, api] = await Promise.all([startContainerd(), new FakeKubeApi({ bookmarkMs: 500 }).start()]);
    for (const name of ['a', 'b']) {
      const sandbox = await lab.runPod(`web-${name}`);
      const container = await lab.runContainer(sandbox, 'app');
      const found = await lookupWorkload(lab.cri, container);
      pods[name] = { container, ip: found.ips[0] as string, netns: found.netnsPath as string, sandbox };
    }
    api.put('namespaces', namespaceObject('web', { 'switchyard.io/capture': 'enabled' }));
    for (const [name, p] of Object.entries(pods))
      api.put(
        'pods',
        podObject({
          name,
          namespace: 'web',
          node: 'n1',
          ip: p.ip,
          containerId: p.container,
          serviceAccount: name,
          probePort: 8081,
        }),
      );
    api.put(
      'pods',
      podObject({ name: 'elsewhere', namespace: 'web', node: 'n2', ip: '10.9.9.9', containerId: 'ffff' }),
    );
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    adminPort = await freePort();
    const config = {
      node: 'n1',
      source: { kind: 'kubernetes', kubeconfig: writeKubeconfig(dir, api.url) },
      criEndpoint: lab.endpoint,
      identity: { caDir: 'ca' },
      meshCidrs: ['10.233.0.0/16'],
      families: ['ipv4'],
      stateDir: 'state',
      admin: { port: adminPort },
      drainSeconds: 0,
      resyncSeconds: 1,
      retry: { initialMs: 100, maxMs: 400 },
    };
    writeFileSync(join(dir, 'agent.yaml'), JSON.stringify(config));
    agent = startAgentProcess(['--config', join(dir, 'agent.yaml')]);
    await agent.waitFor(/"msg":"agent ready"/);
  }, 120_000);

  afterAll(async () => {
    // Each step bounded; on a timeout the error says which, and what the process had printed.
    const within = <T>(ms: number, what: () => string, p: Promise<T>) =>
      Promise.race([
        p,
        new Promise<T>((_, reject) =>
          setTimeout(() => reject(new Error(`${what()}\ntook over ${ms} ms`)), ms),
        ),
      ]);
    try {
      if (agent && agent.child.exitCode === null) {
        agent.child.kill('SIGTERM');
        await within(15_000, () => `the agent's SIGTERM stop:\n${agent.output().slice(-3000)}`, agent.exited);
        const uninstall = startAgentProcess(['--uninstall', '--config', join(dir, 'agent.yaml')]);
        await within(15_000, () => `--uninstall:\n${uninstall.output()}`, uninstall.exited);
      }
    } finally {
      if (agent?.child.exitCode === null) agent.child.kill('SIGKILL');
      await within(60_000, () => 'the containerd lab stop', lab?.stop() ?? Promise.resolve());
      await api?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('captures this node’s opted-in pods, found through CRI, their probe ports left to kubelet', async () => {
    const status = await agentStatus(adminPort);
    expect(status.source).toBe('kubernetes');
    expect(status.workloads.map((w) => [w.id, w.phase])).toEqual([
      ['web/a', 'captured'],
      ['web/b', 'captured'],
    ]);
    const a = status.workloads[0];
    expect(a?.target).toMatch(/^(netns:\/|pid:)/);
    expect(a?.addresses).toEqual([pods.a?.ip]);
    expect(a?.excludedPorts).toEqual([8081, 15008]);
    expect(tablesIn(pods.a?.netns as string)).toEqual(['table inet switchyard']);
  });

  it('a pod deleted from the API loses its rules on the watch event', async () => {
    api.delete('pods', 'web', 'a');
    await promptly(() => tablesIn(pods.a?.netns as string), [], 20);
    await expect.poll(() => phase('web/a')).toBeUndefined();
  });

  it('a pod whose network namespace vanished is reported and retried; a pod added across an API restart (410) is captured', async () => {
    await lab.cri.call('StopPodSandbox', { podSandboxId: pods.b?.sandbox });
    await expect.poll(async () => (await phase('web/b'))?.phase).toBe('failed');
    expect((await phase('web/b'))?.error?.message).toBeTruthy();
    api.dropWatches();
    api.compact();
    const sandbox = await lab.runPod('web-c');
    const container = await lab.runContainer(sandbox, 'app');
    const found = await lookupWorkload(lab.cri, container);
    api.put(
      'pods',
      podObject({
        name: 'c',
        namespace: 'web',
        node: 'n1',
        ip: found.ips[0] as string,
        containerId: container,
      }),
    );
    await expect.poll(async () => (await phase('web/c'))?.phase).toBe('captured');
    expect(tablesIn(found.netnsPath as string)).toEqual(['table inet switchyard']);
    expect((await phase('web/b'))?.attempts).toBeGreaterThan(1);
  });

  it('watches Services: status --service shows a Service’s endpoints and the identity pinned for each', async () => {
    api.put(
      'services',
      serviceObject({
        name: 'api',
        namespace: 'web',
        clusterIP: '10.96.0.10',
        ports: [{ name: 'http', port: 80, targetPort: 'web' }],
      }),
    );
    api.put(
      'endpointslices',
      endpointSliceObject({
        name: 'api-1',
        namespace: 'web',
        service: 'api',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [
          { ip: pods.b?.ip as string, pod: 'b', node: 'n1' },
          { ip: '10.9.9.9', pod: 'elsewhere', node: 'n2', ready: false },
        ],
      }),
    );
    const config = join(dir, 'agent.yaml');
    /** Runs `switchyard-agent status …` to its end (every byte of its output read). */
    const status = async (...args: string[]) => {
      const cli = startAgentProcess(['status', ...args, '--config', config]);
      const [code] = await Promise.all([cli.exited, new Promise((r) => cli.child.once('close', r))]);
      return { code, out: cli.output() };
    };
    let shown = { code: 0 as number | string, out: '' };
    // The slice reaches the agent's watch within a second; the poll allows for process start-up.
    await expect
      .poll(
        async () => {
          shown = await status('--service', 'web/api');
          return shown.out;
        },
        { interval: 200 },
      )
      .toContain('web/elsewhere');
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('service web/api · 10.96.0.10');
    expect(shown.out).toMatch(
      new RegExp(
        `http 80→web\\s+${pods.b?.ip.replaceAll('.', '\\.')}:8080\\s+web/b\\s+n1\\s+ready\\s+spiffe://cluster.local/ns/web/sa/b`,
      ),
    );
    expect(shown.out).toMatch(
      /10\.9\.9\.9:8080\s+web\/elsewhere\s+n2\s+not ready\s+spiffe:\/\/cluster.local\/ns\/web\/sa\/default/,
    );
    const unknown = await status('--service', 'web/nope');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('the agent knows no Service web/nope');
  });
});
