import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AgentNodeLab, createAgentNodeLab } from '../testing/agent-node-lab.js';
import { type AgentProcess, agentStatus } from '../testing/agent-process.js';
import { outsideHost, type WireWatch, watchWire } from '../testing/wire-watch.js';

const READY = /"msg":"agent ready"/;
const APP_PORT = 8080;

/**
 * The moments of change: an agent stopped with SIGTERM, killed with -9, and upgraded (killed, a
 * new one started while traffic keeps coming). A captured workload's app must never answer a
 * plaintext client from outside the mesh, a captured client's connections must never leave in
 * plaintext, and tcpdump on every link of the server's namespace must see no data on the app's
 * port — only HBONE on 15008.
 */
// Both HBONE carriers: the JavaScript one and hbone-native, the agent's default where the engine loads.
for (const carrier of ['hbone', 'hbone-native'] as const)
  describePrivileged(`fail closed while no agent serves (stop, kill -9, upgrade), ${carrier}`, () => {
    let node: AgentNodeLab;
    let agent: AgentProcess;
    let wire: WireWatch;
    let outside: ReturnType<typeof outsideHost>;

    /** curl's answer (the app answers with the client address it saw), or `refused` when no answer came. */
    const curl = async (ns: string, address: string): Promise<string> => {
      try {
        const args = [
          'netns',
          'exec',
          ns,
          'curl',
          '-sS',
          '--max-time',
          '2',
          `http://${address}:${APP_PORT}/`,
        ];
        return (await promisify(execFile)('ip', args)).stdout;
      } catch (error) {
        const text = String((error as { stderr?: unknown }).stderr ?? error);
        // Refused in the kernel is immediate; a timeout would mean a black hole, which is not what the rules say.
        return /timed out/i.test(text) ? 'timeout' : 'refused';
      }
    };
    const mesh = () => curl(node.lab.a.name, node.lab.b.v4);
    const plaintext = () => curl(outside.name, outside.peerAddress);

    beforeAll(async () => {
      node = await createAgentNodeLab({ carrier });
      outside = outsideHost(node.lab.b.name, Number(node.lab.a.v4.split('.')[2]));
      node.writeWorkloads([
        { name: 'client', namespace: 'demo', serviceAccount: 'client', network: { netns: node.lab.a.name } },
        { name: 'server', namespace: 'demo', serviceAccount: 'server', network: { netns: node.lab.b.name } },
      ]);
      await node.startApp();
      wire = await watchWire(node.lab.b.name);
      agent = node.startAgent();
      await agent.waitFor(READY);
    });
    afterAll(async () => {
      await wire?.stop();
      outside?.destroy();
      await node?.destroy();
    });

    it('while the agent serves: the mesh client gets through over HBONE, the outside client is refused', async () => {
      expect(await mesh()).toBe(node.lab.a.v4);
      expect(await plaintext()).toBe('refused');
    });

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      it(`agent stopped with ${signal}: nothing reaches the app, nothing leaves in plaintext; back once it returns`, async () => {
        agent.child.kill(signal);
        await agent.exited;
        for (let i = 0; i < 3; i++) {
          expect(await plaintext()).toBe('refused');
          expect(await mesh()).toBe('refused');
        }
        agent = node.startAgent();
        await agent.waitFor(READY);
        expect(await mesh()).toBe(node.lab.a.v4);
        expect(await plaintext()).toBe('refused');
      });
    }

    it('an upgrade (old agent killed -9, a new one started) under steady traffic: every request is carried or refused', async () => {
      const outcomes = new Map<string, number>();
      const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
      let upgraded = false;
      const upgrade = (async () => {
        await new Promise((r) => setTimeout(r, 300));
        agent.child.kill('SIGKILL');
        await agent.exited;
        agent = node.startAgent();
        await agent.waitFor(READY);
        upgraded = true;
      })();
      for (let i = 0; i < 200 && !upgraded; i++) {
        const m = await mesh();
        count(m === node.lab.a.v4 ? 'mesh carried' : `mesh ${m}`);
        const p = await plaintext();
        count(p === 'refused' ? 'outside refused' : `outside ${p}`);
      }
      await upgrade;
      expect(await mesh()).toBe(node.lab.a.v4);
      const seen = Object.fromEntries(outcomes);
      // Only these outcomes: carried over the mesh, or refused; never the app answering in plaintext.
      for (const key of Object.keys(seen))
        expect(['mesh carried', 'mesh refused', 'outside refused']).toContain(key);
      expect(seen['mesh refused']).toBeGreaterThan(0);
      expect((await agentStatus(node.adminPort)).workloads.map((w) => w.phase)).toEqual([
        'captured',
        'captured',
      ]);
    });

    it('tcpdump on every link of the server: HBONE data, no answer from the app port, no plaintext from the mesh client', () => {
      expect(wire.dataSegments('port 15008')).toBeGreaterThan(0);
      // The outside client did send its request (to the proxy, which refused it), so it is there.
      expect(wire.dataSegments(`dst port ${APP_PORT}`)).toBeGreaterThan(0);
      expect(wire.dataSegments(`src port ${APP_PORT}`)).toBe(0);
      expect(wire.dataSegments(`src host ${node.lab.a.v4} and dst port ${APP_PORT}`)).toBe(0);
    });
  });

describePrivileged('a workload that cannot be served is held closed, and says so', () => {
  let node: AgentNodeLab;
  let agent: AgentProcess;

  beforeAll(async () => {
    // No CA in the CA directory: no workload can have its certificate.
    node = await createAgentNodeLab({ carrier: 'hbone', identity: { caDir: 'no-ca-here' } });
    node.writeWorkloads([
      { name: 'server', namespace: 'demo', serviceAccount: 'server', network: { netns: node.lab.b.name } },
    ]);
    await node.startApp();
    agent = node.startAgent();
    await agent.waitFor(READY);
  });
  afterAll(() => node?.destroy());

  it('capture in place, nothing listening, the app unreachable; status says failed, held closed, and why', async () => {
    const [w] = (await agentStatus(node.adminPort)).workloads;
    expect(w).toMatchObject({
      id: 'demo/server',
      phase: 'failed',
      heldClosed: true,
      error: { message: expect.stringMatching(/holds no development CA/) },
    });
    expect(node.inspect(node.lab.b.name)).toMatchObject({
      tables: ['table inet switchyard'],
      listening: [APP_PORT],
    });
    const refused = (() => {
      try {
        return node.request(2);
      } catch (error) {
        return String((error as { stderr?: unknown }).stderr);
      }
    })();
    // curl's exit 7: the connection was refused at once (reset in the kernel), not timed out.
    expect(refused).toMatch(/Failed to connect|refused|reset/i);
    expect(refused).not.toMatch(/timed out/i);
  });
});
