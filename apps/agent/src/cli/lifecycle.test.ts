import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { initCa } from '@switchyard/mesh';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT_VERSION } from '../lifecycle/agent-version.js';
import { freePort } from '../testing/agent-node-lab.js';
import { agentStatus, startAgentProcess } from '../testing/agent-process.js';
import { writeKubeconfig } from '../testing/kube-fixtures.js';
import { agentCli } from '../testing/run-agent-cli.js';

const agent = agentCli;

describePrivileged('switchyard-agent while it starts (a real process, no Kubernetes API answering)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-agent-life-'));
  let config: string;
  let adminPort: number;

  beforeAll(async () => {
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    adminPort = await freePort();
    // Nothing listens on this port: every list fails and is retried, so start-up waits.
    const kubeconfig = writeKubeconfig(dir, `http://127.0.0.1:${await freePort()}`);
    config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        node: 'n1',
        identity: { caDir: 'ca' },
        stateDir: 'state',
        admin: { port: adminPort },
        meshCidrs: ['10.0.0.0/8'],
        source: { kind: 'kubernetes', kubeconfig },
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('status says what it waits for; SIGTERM stops the start-up at once, exit 0, no lock and no process left', async () => {
    const child = startAgentProcess(['--config', config]);
    await child.waitFor(/cannot list yet; retrying/);
    expect(existsSync(join(dir, 'state', 'agent.lock'))).toBe(true);
    const status = await agentStatus(adminPort);
    expect(status).toMatchObject({ node: 'n1', ready: false, workloads: [], version: expect.any(String) });
    expect(status.starting).toMatch(/Kubernetes API/);
    const shown = await agent('status', '--config', config);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(/starting: waiting for the first list of Services.*\nno workloads\n$/);
    const service = await agent('status', '--config', config, '--service', 'web/api');
    expect(service.stderr).toMatch(/the agent is starting \(waiting for .*Kubernetes API\)/);
    const version = await agent('version', '--json', '--config', config);
    expect(JSON.parse(version.stdout)).toMatchObject({
      running: { version: AGENT_VERSION, pid: child.child.pid, node: 'n1', admin: `127.0.0.1:${adminPort}` },
    });
    expect((await agent('version', '--config', config)).stdout).toContain(
      `\nrunning agent: ${AGENT_VERSION}, pid ${child.child.pid}, node n1, admin 127.0.0.1:${adminPort}\n`,
    );
    child.child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.output()).toMatch(
      /stopped during start-up \(SIGTERM during start-up\); nothing left running/,
    );
    expect(child.output()).not.toMatch(/handles still open|watching services/);
    expect(existsSync(join(dir, 'state', 'agent.lock'))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${adminPort}/status`)).rejects.toThrow();
  });

  it("docs/metadata-proxy.md's config with its workload file: with Docker not answering, exit 1 and the documented code, nothing left", async () => {
    const docs = readFileSync(new URL('../../../../docs/metadata-proxy.md', import.meta.url), 'utf8');
    const [agentYaml, workloadsYaml] = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map(
      (m) => m[1] as string,
    );
    const mp = join(dir, 'metadata');
    mkdirSync(mp);
    await initCa({ dir: join(mp, 'ca'), trustDomain: 'cluster.local' });
    const port = await freePort();
    writeFileSync(
      join(mp, 'agent.yaml'),
      `${agentYaml}stateDir: state\nadmin: { port: ${port} }\nmetadataProxy: { docker: ${join(mp, 'no-docker.sock')} }\n`.replace(
        /^metadataProxy: \{\}.*\n/m,
        '',
      ),
    );
    writeFileSync(join(mp, 'workloads.yaml'), workloadsYaml as string);
    const child = startAgentProcess(['--config', join(mp, 'agent.yaml')]);
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(
      /no Docker daemon answers on .*no-docker\.sock .*\[SWY_ERR_RUNTIME_UNAVAILABLE\]\n$/,
    );
    expect(existsSync(join(mp, 'state', 'agent.lock'))).toBe(false);
  });
});
