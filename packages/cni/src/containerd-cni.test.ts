// switchyard-cni in a real containerd (CRI plugin, libcni), chained by the installer after
// Debian's bridge plugin: RunPodSandbox runs ADD with the bridge's result and the pod's
// namespace/name; while the agent is down the sandbox is not created (and the bridge's address is
// given back), the reason in the error; the retry succeeds once the agent is back.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { containerdUnavailable } from '@switchyard/cri/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { CniRequest } from './protocol.js';
import { type AgentStandIn, startAgentStandIn } from './testing/agent-stand-in.js';
import { CNI_LAB, type CniLab, startCniLab } from './testing/containerd-cni-lab.js';
import { programs } from './testing/programs.js';

const run = promisify(execFile);
const why = containerdUnavailable();

interface Seen {
  request: CniRequest;
  /** The pod's IPv4 addresses on eth0 when the agent was asked. */
  addresses: string[];
}

describeRequiring(why, 'switchyard-cni in a real containerd', () => {
  let lab: CniLab;
  let agent: AgentStandIn;
  let dir: string;
  let socket: string;
  let seen: Seen[] = [];

  /** Answers like a capturing agent: looks into the pod's namespace, then passes prevResult on. */
  const capturing = async (received: { body: unknown }) => {
    const request = received.body as CniRequest;
    let addresses: string[] = [];
    if (request.command === 'ADD') {
      const ip = await run('nsenter', [`--net=${request.netns}`, 'ip', '-j', '-4', 'addr', 'show', 'eth0']);
      addresses = JSON.parse(ip.stdout).flatMap((l: { addr_info: { local: string }[] }) =>
        l.addr_info.map((a) => a.local),
      );
    }
    seen.push({ request, addresses });
    return {
      status: 200,
      body: request.command === 'ADD' ? JSON.stringify(request.config.prevResult) : '',
    };
  };

  beforeAll(async () => {
    if (why) throw new Error(`cannot run in CI: ${why}`);
    dir = mkdtempSync(join(tmpdir(), 'sy21c-agent-'));
    socket = join(dir, 'agent.sock');
    agent = await startAgentStandIn(socket);
    lab = await startCniLab((await programs('release')).cni, socket, 5);
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
    await agent?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);
  beforeEach(() => {
    seen = [];
    agent.answer(capturing);
  });

  it('is asked during RunPodSandbox, after the bridge configured the pod, with its name and namespace', async () => {
    const id = await lab.runPod('shop', 'web-0');
    expect(seen).toHaveLength(1);
    const [{ request, addresses } = {} as Seen] = seen;
    expect(request).toMatchObject({ command: 'ADD', containerId: id, ifName: 'eth0' });
    expect(request.args.split(';')).toEqual(
      expect.arrayContaining([
        'K8S_POD_NAMESPACE=shop',
        'K8S_POD_NAME=web-0',
        `K8S_POD_INFRA_CONTAINER_ID=${id}`,
      ]),
    );
    expect(request.netns).toMatch(/^\/var\/run\/netns\/cni-/);
    expect(request.config).toMatchObject({
      type: 'switchyard-cni',
      name: CNI_LAB.network,
      cniVersion: '1.0.0',
    });
    const prevResult = request.config.prevResult as { ips: { address: string }[] };
    expect(addresses).toHaveLength(1);
    expect(prevResult.ips.map((i) => i.address)).toEqual([`${addresses[0]}/24`]);
    const status = await lab.cri.call<{ status: { network: { ip: string } } }>('PodSandboxStatus', {
      podSandboxId: id,
    });
    expect(status.status.network.ip).toBe(addresses[0]);
    await lab.removePod(id);
    expect(seen.map((s) => [s.request.command, s.request.containerId])).toContainEqual(['DEL', id]);
  });

  it('fails the sandbox while no agent listens, gives the address back, and succeeds once the agent is back', async () => {
    const reserved = lab.reservedAddresses();
    await agent.close();
    const error = await lab.runPod('shop', 'web-1').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('switchyard agent unavailable');
    expect(String((error as Error).message)).toContain('pod shop/web-1 is not started until the agent');
    expect(lab.reservedAddresses()).toEqual(reserved); // the failed ADD's DEL released the bridge's address
    agent = await startAgentStandIn(socket);
    agent.answer(capturing);
    const id = await lab.runPod('shop', 'web-1');
    expect(seen.map((s) => s.request.command)).toEqual(['ADD']);
    await lab.removePod(id);
  });

  it("fails the sandbox with the agent's reason when capture fails", async () => {
    const refusal = { cniVersion: '1.0.0', code: 101, msg: 'capture failed: sy21c nft refused' };
    agent.answer(() => ({ status: 500, body: JSON.stringify(refusal) }));
    const error = await lab.runPod('shop', 'web-2').catch((e: Error) => e);
    expect(String((error as Error).message)).toContain('capture failed: sy21c nft refused');
  });

  it('starts pods of excluded namespaces and removes any pod while the agent is down', async () => {
    const id = await lab.runPod('shop', 'web-3');
    await agent.close();
    try {
      const system = await lab.runPod('kube-system', 'dns-0');
      await lab.removePod(system);
      await lab.removePod(id);
      const gone = await lab.cri.call<{ items: unknown[] }>('ListPodSandbox', { filter: { id } });
      expect(gone.items ?? []).toEqual([]);
    } finally {
      agent = await startAgentStandIn(socket);
    }
    expect(seen.map((s) => s.request.command)).toEqual(['ADD']);
  });
});
