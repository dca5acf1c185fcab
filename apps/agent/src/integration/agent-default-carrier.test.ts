import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AgentNodeLab, createAgentNodeLab } from '../testing/agent-node-lab.js';
import { type AgentProcess, agentStatus } from '../testing/agent-process.js';
import { agentCli } from '../testing/run-agent-cli.js';

const READY = /"msg":"agent ready"/;
/** The loader's build switch: a name no build has makes the addon fail to load, as a missing one does. */
const NO_ENGINE = { SWITCHYARD_RELAY_NATIVE_BUILD: 'none' };

describePrivileged('the agent default carrier: hbone-native where the engine loads, hbone where not', () => {
  let node: AgentNodeLab;
  const workloads = () => [
    { name: 'client', namespace: 'demo', serviceAccount: 'client', network: { netns: node.lab.a.name } },
    { name: 'server', namespace: 'demo', serviceAccount: 'server', network: { netns: node.lab.b.name } },
  ];

  beforeAll(async () => {
    node = await createAgentNodeLab(); // no carrier in the config
    node.writeWorkloads(workloads());
    await node.startApp();
  });
  afterAll(() => node?.destroy());

  async function stop(agent: AgentProcess): Promise<void> {
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }

  it('runs hbone-native with the addon loaded; status and the log say so; traffic flows', async () => {
    const agent = node.startAgent();
    await agent.waitFor(READY);
    expect(agent.output()).toMatch(/"msg":"carrier chosen".*"carrier":"hbone-native","pinned":false/);
    const status = await agentStatus(node.adminPort);
    expect(status.carrier).toEqual({ name: 'hbone-native', pinned: false });
    expect(status.workloads.map((w) => [w.id, w.phase, w.carrier])).toEqual([
      ['demo/client', 'captured', 'hbone-native'],
      ['demo/server', 'captured', 'hbone-native'],
    ]);
    expect(node.request()).toBe(node.lab.a.v4);
    const shown = await agentCli('status', '--config', node.config);
    expect(shown.stdout).toMatch(/ · carrier hbone-native · /);
    await stop(agent);
  });

  it('falls back to JavaScript hbone where the addon cannot load, says why, and traffic flows', async () => {
    const agent = node.startAgent([], NO_ENGINE);
    await agent.waitFor(READY);
    expect(agent.output()).toMatch(
      /"level":"warn".*"msg":"the default carrier cannot run here: running the fallback".*"carrier":"hbone","default":"hbone-native","reason":".*SWITCHYARD_RELAY_NATIVE_BUILD=\\"none\\" names no build/,
    );
    const status = await agentStatus(node.adminPort);
    expect(status.carrier).toMatchObject({
      name: 'hbone',
      pinned: false,
      fellBack: {
        from: 'hbone-native',
        reason: expect.stringMatching(/names no build of the native relay engine/),
      },
    });
    expect(status.workloads.map((w) => w.carrier)).toEqual(['hbone', 'hbone']);
    expect(node.request()).toBe(node.lab.a.v4);
    await stop(agent);
  });
});
