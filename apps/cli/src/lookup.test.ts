import { execFileSync } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import { type ContainerdLab, containerdUnavailable, startContainerd } from '@switchyard/cri/testing';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli } from './testing/run-cli.js';

const reason = containerdUnavailable();

describeRequiring(reason, 'switchyard lookup and redirect --container against a real containerd', () => {
  let lab: ContainerdLab;
  let pod: string;
  let container: string;
  let hostPod: string;
  let hostContainer: string;
  const rt = () => ['--runtime-endpoint', lab.endpoint];

  beforeAll(async () => {
    lab = await startContainerd();
    pod = await lab.runPod('web');
    container = await lab.runContainer(pod, 'app');
    hostPod = await lab.runPod('hostnet', { hostNetwork: true });
    hostContainer = await lab.runContainer(hostPod, 'app');
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('finds the pod network namespace by container id, pod id and short prefix alike', async () => {
    const results = [];
    for (const id of [container, pod, container.slice(0, 12), pod.slice(0, 8)]) {
      const r = await cli('lookup', id, ...rt(), '--json');
      expect(r.code, r.stderr).toBe(0);
      results.push(JSON.parse(r.stdout));
    }
    for (const found of results) {
      expect(found).toMatchObject({
        podSandboxId: pod,
        name: 'web',
        namespace: 'default',
        hostNetwork: false,
        platform: 'linux',
      });
      expect(found.netnsPath).toMatch(/^\/var\/run\/netns\/cni-/);
      expect(found.ips[0]).toMatch(/^10\.233\.\d+\.\d+$/);
    }
    expect(results[0].containerId).toBe(container);
    const text = await cli('lookup', container.slice(0, 12), ...rt());
    expect(text.stdout).toMatch(/^container {3}[0-9a-f]{64} \(app\)$/m);
    expect(text.stdout).toMatch(/^netns {7}\/var\/run\/netns\/cni-/m);
  });

  it('captures inbound TCP inside the real pod with redirect apply --container, and remove restores it', async () => {
    const found = JSON.parse((await cli('lookup', container, ...rt(), '--json')).stdout);
    const podTarget = { kind: 'netns', path: found.netnsPath } as const;
    const before = execFileSync('nsenter', [`--net=${found.netnsPath}`, 'nft', 'list', 'ruleset'], {
      encoding: 'utf8',
    });
    const apply = await cli(
      'redirect',
      'apply',
      '--container',
      container.slice(0, 12),
      ...rt(),
      '--inbound-port',
      '--ipv4',
    );
    expect(apply.code, apply.stderr).toBe(0);

    const driver = tproxyDriver();
    const listener: Server = await driver.socketOps.listen({ port: 15006, target: podTarget });
    try {
      const accepted = new Promise<Socket>((r) => listener.once('connection', r));
      const client = await driver.socketOps.dial({
        destination: { address: found.ips[0], port: 8080 },
        mark: 0,
        target: { kind: 'netns', name: lab.hostNetns },
      });
      const socket = await accepted;
      expect(driver.socketOps.originalDestination(socket)).toEqual({
        address: found.ips[0],
        port: 8080,
        family: 'ipv4',
      });
      client.destroy();
      socket.destroy();
    } finally {
      listener.close();
    }

    const remove = await cli('redirect', 'remove', '--container', container, ...rt());
    expect(remove.stdout).toBe('Removed 1 policy\n');
    expect(
      execFileSync('nsenter', [`--net=${found.netnsPath}`, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }),
    ).toBe(before);
  });

  it('reports a host-network pod as such and refuses to capture it', async () => {
    const found = JSON.parse((await cli('lookup', hostContainer, ...rt(), '--json')).stdout);
    expect(found).toMatchObject({ hostNetwork: true, podSandboxId: hostPod });
    expect(found.netnsPath).toBeUndefined();
    const apply = await cli('redirect', 'apply', '--container', hostContainer, ...rt(), '--inbound-port');
    expect(apply.code).toBe(2);
    expect(apply.stderr).toMatch(
      /uses the host network; capturing it would capture the whole node.*\[SWY_ERR_TARGET_UNSUPPORTED\]/,
    );
  });

  it('explains an unknown id (exit 2) and a runtime that is not there (exit 1)', async () => {
    const unknown = await cli('lookup', 'ffffffffffff', ...rt());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no container or pod has the id "ffffffffffff"/);
    const wrong = await cli('lookup', container, '--runtime-endpoint', 'unix:///run/switchyard-no-such.sock');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no container runtime answered CRI.*switchyard-no-such\.sock/s);
  });
});
