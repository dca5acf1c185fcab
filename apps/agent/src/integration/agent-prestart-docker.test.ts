import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildNative } from '@switchyard/cni';
import { jsonLogger } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { initCa } from '@switchyard/mesh';
import { describeRequiring, freePort } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../agent.js';
import { validateConfig } from '../config/validate-config.js';
import {
  createDockerLab,
  type DockerLab,
  type DockerLabNames,
  dockerLabUnavailable,
} from '../testing/docker-lab.js';
import { type WireWatch, watchWire } from '../testing/wire-watch.js';
import { uninstall } from '../uninstall.js';

const reason = dockerLabUnavailable();

/**
 * This suite's host-global names, with this process's number in them: it runs beside the other
 * Docker suite, and beside the same suite of another checkout on the same machine.
 */
const N = 100 + (process.pid % 100);
const NAMES: DockerLabNames = {
  image: `sy21a${N}-busybox:local`,
  network: { name: `sy21a${N}net`, bridge: `sy21a${N}br`, subnet: `10.${N}.21.0/24` },
  metadata: {
    netns: `sy21a${N}md`,
    hostLink: `sy21a${N}md0`,
    hostAddress: `10.${N}.22.1`,
    nsAddress: `10.${N}.22.2`,
  },
  table: String(2000 + N),
};
const SERVER_IP = `10.${N}.21.50`;
const PROXY_IP = `10.${N}.21.60`;
const MESH = { 'switchyard.io/capture': 'enabled', 'switchyard.io/namespace': 'shop' };
const GET = (host: string, path: string) =>
  `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80 | tr -d '\\r' | sed '1,/^$/d'`;

/**
 * The `switchyard-runtime` wrapper registered in a real dockerd: containers that opt in are
 * captured before their first instruction, on every start and restart, and tcpdump — on the
 * Docker bridge and in the metadata endpoint's namespace — sees nothing that skipped the capture.
 */
describeRequiring(reason, 'capture before a container starts (real dockerd, switchyard-runtime)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy21a-'));
  let lab: DockerLab;
  let agent: Agent;
  let config: ReturnType<typeof validateConfig>;
  const docker = async (...args: string[]) =>
    (
      await promisify(execFile)('docker', ['-H', `unix://${lab.socket}`, ...args], { timeout: 30_000 })
    ).stdout.trim();
  const run = (
    name: string,
    labels: Record<string, string>,
    ip: string | undefined,
    script: string,
    extra: string[] = [],
  ) =>
    docker(
      'run',
      '--runtime',
      'switchyard',
      '--network',
      NAMES.network.name,
      ...(ip ? ['--ip', ip] : []),
      '--name',
      name,
      ...Object.entries(labels).flatMap(([k, v]) => ['-l', `${k}=${v}`]),
      ...extra,
      NAMES.image,
      'sh',
      '-c',
      script,
    );

  beforeAll(async () => {
    const { runtime } = await buildNative({ outDir: join(dir, 'bin') });
    const socket = join(dir, 'state', 'agent.sock');
    const runc = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
    lab = await createDockerLab({
      names: NAMES,
      daemon: {
        runtimes: {
          switchyard: {
            path: runtime,
            runtimeArgs: [`--switchyard-socket=${socket}`, `--switchyard-runtime=${runc}`],
          },
        },
      },
    });
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    config = validateConfig(
      {
        identity: { caDir: 'ca' },
        source: { kind: 'docker', socket: lab.socket },
        metadataProxy: { docker: lab.socket },
        meshCidrs: [NAMES.network.subnet],
        families: ['ipv4'],
        stateDir: 'state',
        runtimeSocket: socket,
        admin: { port: await freePort() },
        drainSeconds: 1,
      },
      dir,
    );
    agent = await Agent.start(config, { driver: tproxyDriver(), logger: jsonLogger({ level: 'error' }) });
    // The metadata proxy: not in the mesh, it marks what it relays.
    await docker(
      'run',
      '-d',
      '--network',
      NAMES.network.name,
      '--ip',
      PROXY_IP,
      '--name',
      `sy21a${N}-md-proxy`,
      '-l',
      'switchyard.io/metadata=proxy',
      '-e',
      `MARK=sy21a${N}`,
      NAMES.image,
      'nc',
      '-ll',
      '-p',
      '80',
      '-e',
      '/proxy.sh',
    );
    for (let i = 0; i < 100 && agent.status().metadataProxy?.proxy?.address !== PROXY_IP; i++)
      await new Promise((r) => setTimeout(r, 100));
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    if (config) await uninstall(config, tproxyDriver());
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('50 metadata clients that ask from their first instant: every answer is the proxy’s, none reaches the endpoint itself', async () => {
    expect(agent.status().metadataProxy?.proxy?.address).toBe(PROXY_IP);
    const wire: WireWatch = await watchWire(NAMES.metadata.netns);
    try {
      for (let i = 0; i < 50; i++) {
        const body = await run(
          `sy21a${N}-md-client-${i}`,
          { 'switchyard.io/metadata': 'client' },
          undefined,
          GET('169.254.169.254', '/metadata/instance'),
          ['--rm'],
        );
        expect(body).toBe(`metadata-standin via sy21a${N}`);
      }
      // The proxy's own requests are there (the capture sees the endpoint's traffic at all).
      expect(wire.dataSegments(`dst port 80 and src host ${PROXY_IP}`)).toBeGreaterThan(0);
      expect(wire.dataSegments(`dst port 80 and not src host ${PROXY_IP}`)).toBe(0);
    } finally {
      await wire.stop();
    }
  }, 240_000);

  it('20 restarts while the peer keeps sending: captured before each start, the live instance in status, no plaintext on the bridge', async () => {
    const wire = await watchWire(undefined, [NAMES.network.bridge]);
    try {
      await run(`sy21a${N}-server`, MESH, SERVER_IP, 'httpd -f -p 80 -h /www', ['-d']);
      // The sender: a request every few milliseconds from its first instant, for as long as it runs.
      await run(
        `sy21a${N}-sender`,
        MESH,
        undefined,
        `while true; do ${GET(SERVER_IP, '/index.html')} >/dev/null; done`,
        ['-d'],
      );
      await expect
        .poll(() => agent.status().workloads.map((w) => `${w.id} ${w.phase}`), { timeout: 10_000 })
        .toEqual([`shop/sy21a${N}-sender captured`, `shop/sy21a${N}-server captured`]);
      for (let i = 0; i < 20; i++) {
        await docker('restart', '-t', '0', i % 2 === 0 ? `sy21a${N}-sender` : `sy21a${N}-server`);
        await new Promise((r) => setTimeout(r, 300));
      }
      const pids = Object.fromEntries(
        await Promise.all(
          [`sy21a${N}-sender`, `sy21a${N}-server`].map(async (n) => [
            `shop/${n}`,
            `captured pid:${await docker('inspect', '-f', '{{.State.Pid}}', n)}`,
          ]),
        ),
      );
      await expect
        .poll(
          () => Object.fromEntries(agent.status().workloads.map((w) => [w.id, `${w.phase} ${w.target}`])),
          { timeout: 10_000 },
        )
        .toEqual(pids);
      // The sender still reaches the server over the mesh (a tunnel pooled before the last
      // restart may be dead: a new request gets a fresh one).
      await expect
        .poll(() => docker('exec', `sy21a${N}-sender`, 'sh', '-c', GET(SERVER_IP, '/index.html')), {
          timeout: 10_000,
        })
        .toBe('hello from the app');
      expect(wire.dataSegments('port 15008')).toBeGreaterThan(0);
      expect(wire.dataSegments('port 80')).toBe(0);
    } finally {
      await wire.stop();
    }
  }, 240_000);
});
