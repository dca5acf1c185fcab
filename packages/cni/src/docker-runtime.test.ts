// The runtime wrapper in a real dockerd (registered through daemon.json "runtimes", as operators
// do), with real runc and the containerd shim: `docker run --runtime switchyard` asks the agent
// after Docker configured the container's network and before the container's first instruction;
// a refusal or an absent agent makes `docker run` fail with the reason, and nothing runs.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { AGENT_PATHS, type RuntimeStartRequest } from './protocol.js';
import { type AgentStandIn, startAgentStandIn } from './testing/agent-stand-in.js';
import {
  createRuntimeLab,
  RUNTIME_LAB,
  type RuntimeLab,
  runtimeLabUnavailable,
} from './testing/docker-runtime-lab.js';
import { programs } from './testing/programs.js';

const run = promisify(execFile);
const why = runtimeLabUnavailable();

/** What the stand-in saw of the container when the wrapper asked. */
interface Seen {
  request: RuntimeStartRequest;
  status: string;
  addresses: string[];
  firstInstructionRan: boolean;
}

describeRequiring(why, 'switchyard-runtime in a real dockerd', () => {
  let lab: RuntimeLab;
  let agent: AgentStandIn;
  let dir: string;
  let socket: string;
  let mark: string;
  let seen: Seen[] = [];

  /** Answers like an agent that captures: reads the container's state and network at that moment. */
  const capturing =
    (status: number, body = '') =>
    async (request: { body: unknown; path: string }) => {
      const start = request.body as RuntimeStartRequest;
      const state = JSON.parse((await run('runc', ['--root', start.root, 'state', start.id])).stdout);
      const ip = await run('nsenter', [
        '-t',
        String(state.pid),
        '-n',
        'ip',
        '-j',
        '-4',
        'addr',
        'show',
        'eth0',
      ]);
      const addresses = JSON.parse(ip.stdout).flatMap((l: { addr_info: { local: string }[] }) =>
        l.addr_info.map((a) => a.local),
      );
      seen.push({ request: start, status: state.status, addresses, firstInstructionRan: existsSync(mark) });
      return { status, body };
    };
  /** `docker run` of a container that marks its first instruction, then sleeps `hold` seconds. */
  const dockerRun = (hold: number, ...args: string[]) =>
    lab.docker(
      'run',
      '--runtime',
      RUNTIME_LAB.runtime,
      '--network',
      RUNTIME_LAB.network,
      '-v',
      `${dir}:/mark`,
      ...args,
      RUNTIME_LAB.image,
      'sh',
      '-c',
      `touch /mark/ran; exec busybox sleep ${hold}`,
    );

  beforeAll(async () => {
    if (why) throw new Error(`cannot run in CI: ${why}`);
    dir = mkdtempSync(join(tmpdir(), 'sy21c-mark-'));
    mkdirSync(join(dir, 'agent'));
    socket = join(dir, 'agent', 'agent.sock');
    mark = join(dir, 'ran');
    agent = await startAgentStandIn(socket);
    lab = await createRuntimeLab((await programs('release')).runtime, socket);
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    await agent?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);
  beforeEach(() => {
    rmSync(mark, { force: true });
    seen = [];
    agent.requests.length = 0;
  });

  it('asks the agent once the network is configured and before the first instruction runs', async () => {
    agent.answer(capturing(200));
    const r = await dockerRun(0, '--rm');
    expect(r.status, r.stderr).toBe(0);
    expect(agent.requests.map((q) => [q.path, q.httpVersion])).toEqual([[AGENT_PATHS.runtimeStart, '1.0']]);
    const [first] = seen;
    expect(first?.request.id).toMatch(/^[0-9a-f]{64}$/);
    expect(first?.request.root.startsWith('/')).toBe(true);
    expect(first?.status).toBe('created');
    const prefix = RUNTIME_LAB.subnet.replace(/0\/24$/, ''); // the container's address on the lab's network
    expect(first?.addresses.map((a) => a.startsWith(prefix))).toEqual([true]);
    expect(first?.firstInstructionRan).toBe(false);
    expect(existsSync(mark)).toBe(true);
  });

  it('fails docker run with the reason when the agent refuses, and nothing runs', async () => {
    agent.answer(capturing(403, 'identity unavailable: sy21c has no CA'));
    const r = await dockerRun(0, '--name', 'sy21c-refused');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('switchyard: the agent refused to start container');
    expect(r.stderr).toContain('identity unavailable: sy21c has no CA');
    expect(seen).toHaveLength(1);
    expect(existsSync(mark)).toBe(false);
    const state = await lab.docker(
      'inspect',
      '-f',
      '{{.State.Running}} {{.State.StartedAt}}',
      'sy21c-refused',
    );
    expect(state.stdout.trim()).toBe('false 0001-01-01T00:00:00Z');
  });

  it('fails closed while no agent listens, and starts once the agent is back', async () => {
    await agent.close();
    const down = await dockerRun(0, '--rm');
    expect(down.status).not.toBe(0);
    expect(down.stderr).toContain('switchyard: agent unavailable: no agent listens on');
    expect(existsSync(mark)).toBe(false);
    expect(lab.shims()).toEqual([]);
    agent = await startAgentStandIn(socket);
    agent.answer(capturing(200));
    const back = await dockerRun(0, '--rm');
    expect(back.status, back.stderr).toBe(0);
    expect(existsSync(mark)).toBe(true);
  });

  it('asks again on every restart (a new network namespace), before the program runs again', async () => {
    agent.answer(capturing(200));
    const started = await dockerRun(30, '-d');
    expect(started.status, started.stderr).toBe(0);
    const id = started.stdout.trim();
    rmSync(mark, { force: true });
    const restarted = await lab.docker('restart', '-t', '0', id);
    expect(restarted.status, restarted.stderr).toBe(0);
    expect(seen.map((s) => [s.request.id, s.status, s.firstInstructionRan])).toEqual([
      [id, 'created', false],
      [id, 'created', false],
    ]);
    expect(existsSync(mark)).toBe(true);
    await lab.docker('rm', '-f', id);
  });
});
