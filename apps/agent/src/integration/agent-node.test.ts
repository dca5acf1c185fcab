import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BYPASS_MARK } from '@switchyard/core';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AgentWorkloadConfig } from '../agent.js';
import type { PlanReport } from '../cli/plan-command.js';
import { type AgentNodeLab, createAgentNodeLab, sh } from '../testing/agent-node-lab.js';
import { type AgentProcess, agentStatus } from '../testing/agent-process.js';
import { promptly } from '../testing/promptly.js';
import { agentCli } from '../testing/run-agent-cli.js';

const READY = /"msg":"agent ready"/;

describePrivileged('switchyard-agent on a node (namespaces, nftables, the addon)', () => {
  let node: AgentNodeLab;
  let agent: AgentProcess;
  const workloads = () => [
    { name: 'client', namespace: 'demo', serviceAccount: 'client', network: { netns: node.lab.a.name } },
    { name: 'server', namespace: 'demo', serviceAccount: 'server', network: { netns: node.lab.b.name } },
  ];

  const metrics = async () => (await fetch(`http://127.0.0.1:${node.adminPort}/metrics`)).text();

  beforeAll(async () => {
    node = await createAgentNodeLab({ carrier: 'hbone' });
    node.writeWorkloads(workloads());
    await node.startApp();
  });
  afterAll(() => node?.destroy());

  it('plan prints what the agent would apply on this node, and applies nothing', async () => {
    const before = node.inspect(node.lab.a.name);
    const r = await agentCli('plan', '--config', node.config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^node \S+ · source file · driver tproxy · 2 workloads \(nothing applied\)\n/);
    expect(r.stdout).toContain(
      `# demo/client → netns:${node.lab.a.name} (hbone, spiffe://cluster.local/ns/demo/sa/client)\n`,
    );
    expect(r.stdout).toContain('table inet switchyard {');
    expect(node.inspect(node.lab.a.name)).toEqual(before);
    expect(before.tables).toEqual([]);
    const j = JSON.parse((await agentCli('plan', '--json', '--config', node.config)).stdout) as PlanReport;
    expect(j.workloads.map((w) => [w.id, w.changed, w.artifact?.format])).toEqual([
      ['demo/client', true, 'nft'],
      ['demo/server', true, 'nft'],
    ]);
  });

  it('one process captures two namespaces and carries their traffic over HBONE; the app sees the client', async () => {
    agent = node.startAgent();
    await agent.waitFor(READY);
    const status = await agentStatus(node.adminPort);
    expect(status.ready).toBe(true);
    expect(status.workloads.map((w) => [w.id, w.phase, w.carrier])).toEqual([
      ['demo/client', 'captured', 'hbone'],
      ['demo/server', 'captured', 'hbone'],
    ]);
    expect(node.request()).toBe(node.lab.a.v4);
    await expect
      .poll(metrics)
      .toMatch(
        /switchyard_connections_total\{workload="demo\/server",carrier="hbone",direction="inbound",outcome="spliced"\} 1/,
      );
    expect(await metrics()).toMatch(/switchyard_agent_workload_captured\{workload="demo\/client"\} 1/);
    expect((await fetch(`http://127.0.0.1:${node.adminPort}/readyz`)).status).toBe(200);
  });

  it('switches both workloads to plain mTLS when the file says so, and traffic flows over it', async () => {
    node.writeWorkloads(workloads().map((w) => ({ ...w, carrier: 'mtls' })));
    await expect
      .poll(async () => (await agentStatus(node.adminPort)).workloads.map((w) => `${w.carrier} ${w.phase}`))
      .toEqual(['mtls captured', 'mtls captured']);
    expect(node.request()).toBe(node.lab.a.v4);
    // Counted when the connection ends.
    await expect
      .poll(metrics)
      .toMatch(
        /switchyard_connections_total\{workload="demo\/server",carrier="mtls",direction="inbound",outcome="spliced"\} 1/,
      );
    node.writeWorkloads(workloads());
    await expect
      .poll(async () => (await agentStatus(node.adminPort)).workloads.map((w) => `${w.carrier} ${w.phase}`))
      .toEqual(['hbone captured', 'hbone captured']);
  });

  it('a second agent on the node refuses to start, naming the first', async () => {
    const second = node.startAgent();
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `another switchyard-agent is running on this node: pid ${agent.child.pid}`,
    );
  });

  it('after kill -9 and a restart: nothing duplicated, nothing leaked, traffic flows again', async () => {
    const before = { a: node.inspect(node.lab.a.name), b: node.inspect(node.lab.b.name) };
    agent.child.kill('SIGKILL');
    await agent.exited;
    // Fail closed: the rules stay, so A's request is refused rather than sent in plaintext.
    expect(() => node.request(1)).toThrow();
    agent = node.startAgent();
    await agent.waitFor(READY);
    expect({ a: node.inspect(node.lab.a.name), b: node.inspect(node.lab.b.name) }).toEqual(before);
    expect(before.a.tables).toEqual(['table inet switchyard']);
    expect(node.request()).toBe(node.lab.a.v4);
    expect(await metrics()).toMatch(/switchyard_agent_reconcile_actions_total\{action="kept"\} 2/);
    expect(await metrics()).not.toMatch(/action="applied"/);
  });

  it('config shows what a workload runs with: its certificate, listeners, pinned peers, and a refused connection', async () => {
    // A plain connection that is not captured on A (it carries the bypass mark, as an unmeshed
    // client would) reaches B's inbound capture: B refuses it, and remembers it.
    const plain = `import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, ${DEFAULT_BYPASS_MARK}); s.settimeout(5); s.connect(("${node.lab.b.v4}", 8080))\ntry: print(s.recv(100))\nexcept OSError as e: print(e)`;
    expect(node.lab.run(node.lab.a.name, '/usr/bin/python3', '-c', plain)).toMatch(/reset|b''/);
    const r = await agentCli('config', 'demo/server', '--json', '--config', node.config);
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout) as AgentWorkloadConfig;
    expect(config.certificate).toMatchObject({
      spiffeId: 'spiffe://cluster.local/ns/demo/sa/server',
      issuer: expect.stringMatching(/Switchyard development CA/),
    });
    expect(config.trustBundle).toHaveLength(1);
    expect(config.listeners.map((l) => l.role).sort()).toEqual(['hbone', 'inbound', 'outbound']);
    expect(config.outbound?.meshCidrs).toEqual([`${node.lab.a.v4.split('.').slice(0, 3).join('.')}.0/24`]);
    expect(config.pinnedIdentities[node.lab.a.v4]).toBe('spiffe://cluster.local/ns/demo/sa/client');
    expect(config.recentDenials.at(-1)).toMatchObject({
      direction: 'inbound',
      outcome: 'refused',
      source: expect.stringContaining(node.lab.a.v4),
    });
    expect(JSON.stringify(config)).not.toMatch(/PRIVATE KEY/);
    const text = await agentCli('config', 'demo/server', '--config', node.config);
    expect(text.stdout).toMatch(
      /^workload demo\/server · carrier hbone · serving\ncertificate {3}spiffe:\/\/cluster\.local\/ns\/demo\/sa\/server, serial /,
    );
    expect(text.stdout).toMatch(/\n {2}\S+ inbound refused .*from /);
    const yaml = await agentCli('config', 'demo/server', '-o', 'yaml', '--config', node.config);
    expect(yaml.stdout).toMatch(/^id: demo\/server\ncarrier: hbone\n/);
  });

  it('a malformed workload file is reported, changes nothing, and status shows it until a good edit', async () => {
    node.writeWorkloads('workloads:\n  - name: Server\n    network: { netns: x, pid: 3 }\n');
    await agent.waitFor(/workload source problem.*workloads\[0\]\.name.*workloads\[0\]\.network/);
    const status = await agentStatus(node.adminPort);
    expect(status.workloads.map((w) => w.phase)).toEqual(['captured', 'captured']);
    expect(status.sourceProblem?.reason).toMatch(/workloads\[0\]\.name/);
    const shown = await agentCli('status', '--config', node.config);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(
      /the last update of the file source was rejected [\s\S]*\n {4}- workloads\[0\]\.name/,
    );
    expect(node.request()).toBe(node.lab.a.v4);
    node.writeWorkloads(workloads());
    await promptly(async () => (await agentStatus(node.adminPort)).sourceProblem, undefined);
  });

  it('a workload whose namespace does not exist is reported and retried while the others work, and captured once it appears', async () => {
    const late = `${node.lab.b.name}-late`;
    node.writeWorkloads([...workloads(), { name: 'late', namespace: 'demo', network: { netns: late } }]);
    await expect
      .poll(
        async () =>
          (await agentStatus(node.adminPort)).workloads.find((w) => w.id === 'demo/late')?.error?.code,
      )
      .toBe('SWY_ERR_TARGET_NOT_FOUND');
    expect(node.request()).toBe(node.lab.a.v4);
    try {
      sh('ip', 'netns', 'add', late);
      await expect
        .poll(async () => {
          const late = (await agentStatus(node.adminPort)).workloads.find((w) => w.id === 'demo/late');
          return `${late?.phase} ${late?.error?.message ?? ''}`;
        })
        .toBe('captured ');
      node.writeWorkloads(workloads());
      await expect.poll(() => existsSync(`/run/netns/${late}`) && node.inspect(late).tables).toEqual([]);
    } finally {
      if (existsSync(`/run/netns/${late}`)) sh('ip', 'netns', 'del', late);
    }
  });

  it('a workload removed from the file loses its rules and listeners on the file change', async () => {
    node.writeWorkloads(workloads().slice(0, 1));
    await promptly(() => node.inspect(node.lab.b.name), { tables: [], rules: 3, listening: [8080] }, 20);
    node.writeWorkloads(workloads());
    await expect.poll(() => node.inspect(node.lab.b.name).tables).toEqual(['table inet switchyard']);
  });

  it('SIGTERM drains and exits 0 with the rules kept; --uninstall then removes everything the agent put there', async () => {
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toMatch(/agent stopped; capture rules kept/);
    expect(node.inspect(node.lab.a.name).tables).toEqual(['table inet switchyard']);
    const uninstall = node.startAgent(['--uninstall']);
    expect(await uninstall.exited).toBe(0);
    expect(uninstall.output()).toMatch(/Removed the capture rules of 2 targets/);
    for (const ns of [node.lab.a.name, node.lab.b.name])
      expect(node.inspect(ns)).toEqual({
        tables: [],
        rules: 3,
        listening: ns === node.lab.b.name ? [8080] : [],
      });
    expect(existsSync(join(node.dir, 'state', 'applied.json'))).toBe(false);
  });
});
