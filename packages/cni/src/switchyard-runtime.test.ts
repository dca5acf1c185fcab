import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_PATHS } from './protocol.js';
import { type AgentStandIn, startAgentStandIn } from './testing/agent-stand-in.js';
import { type Finished, programs, runProgram, sanitizerReport, VARIANTS } from './testing/programs.js';

const ID = '3f1c0ffee';

/**
 * A "runtime" that records each invocation and exits with $FAKE_EXIT; `state` reports
 * $FAKE_STATUS with pid $FAKE_PID, and `kill` kills that pid, as runc does to a created container.
 */
const FAKE_RUNTIME = `#!/bin/sh
{ for a in "$0" "$@"; do printf '%s\\0' "$a"; done; printf '\\n'; } >> "$RECORD"
case " $* " in
  *" state "*) printf '{"status":"%s","pid":%s}' "\${FAKE_STATUS:-stopped}" "\${FAKE_PID:-0}" ;;
  *" kill "*) kill -9 "$FAKE_PID" ;;
esac
exit \${FAKE_EXIT:-0}
`;
const ROOT = '/run/docker/runtime-runc/moby';

describe.each(VARIANTS)('switchyard-runtime (%s build)', (variant) => {
  let wrapper: string;
  let agent: AgentStandIn;
  let dir: string;
  let fake: string;
  let record: string; // one line per invocation of the fake, its argv separated by NULs
  let runs: Finished[] = [];

  const invoked = (): string[][] =>
    existsSync(record)
      ? readFileSync(record, 'utf8')
          .split('\n')
          .slice(0, -1)
          .map((line) => line.split('\0').slice(0, -1))
      : [];
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runProgram(wrapper, args, { RECORD: record, ...env });
    runs.push(r);
    return r;
  };
  const flags = (socket = agent.socket) => [`--switchyard-socket=${socket}`, `--switchyard-runtime=${fake}`];

  beforeAll(async () => {
    wrapper = (await programs(variant)).runtime;
    agent = await startAgentStandIn();
    dir = mkdtempSync(join(tmpdir(), 'swy-runtime-'));
    fake = join(dir, 'fake-runc');
    writeFileSync(fake, FAKE_RUNTIME);
    chmodSync(fake, 0o755);
    record = join(dir, 'argv');
  });
  afterAll(async () => {
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    rmSync(record, { force: true });
    agent.requests.length = 0;
    agent.answer(() => ({ status: 200, body: '' }));
    runs = [];
    return () => {
      for (const r of runs) expect(sanitizerReport(r.stderr), r.stderr).toBe(false);
    };
  });

  it.each([
    [
      [
        '--root',
        ROOT,
        '--log',
        '/x/log.json',
        '--log-format',
        'json',
        'create',
        '--bundle',
        '/b',
        '--pid-file',
        '/p',
        ID,
      ],
    ],
    [['--root', ROOT, 'delete', '--force', ID]],
    [['--root=/r', '--debug', '--systemd-cgroup', 'state', ID]],
    [['--root', ROOT, 'exec', '--process', '/p.json', ID, 'sh', '-c', 'echo --switchyard-socket=/x']],
    [['--root', ROOT, 'kill', ID, '9']],
    [['features']],
    [[]],
  ])('runs the real runtime with the same arguments for %j, without asking the agent', async (args) => {
    const r = await run([...flags(), ...args], { FAKE_EXIT: '3' });
    expect(r.status, r.stderr).toBe(3); // the runtime's own exit status: it replaced the wrapper
    expect(invoked()).toEqual([[fake, ...args]]);
    expect(agent.requests).toHaveLength(0);
  });

  it('asks the agent before start and runs the runtime only after the answer', async () => {
    let runtimeRanBeforeAnswer: boolean | undefined;
    agent.answer(() => {
      runtimeRanBeforeAnswer = existsSync(record);
      return { status: 200, body: '' };
    });
    const args = ['--root', ROOT, '--log', '/x/log.json', '--log-format', 'json', 'start', ID];
    const r = await run([...flags(), ...args]);
    expect(r.status, r.stderr).toBe(0);
    expect(runtimeRanBeforeAnswer).toBe(false);
    expect(invoked()).toEqual([[fake, ...args]]);
    expect(agent.requests).toHaveLength(1);
    expect(agent.requests[0]).toMatchObject({
      method: 'POST',
      path: AGENT_PATHS.runtimeStart,
      httpVersion: '1.0',
      body: { id: ID, root: ROOT },
    });
  });

  it.each([
    [['--root=/r1', '--debug', 'start', ID], '/r1'],
    [['-root', '/r2', '--log-format=json', '--systemd-cgroup', 'start', ID], '/r2'],
    [['--log', '/l', '--root', '/r3', '--criu', 'criu', 'start', ID], '/r3'],
  ])('finds start and --root among runc global flags: %j', async (args, root) => {
    const r = await run([...flags(), ...args]);
    expect(r.status, r.stderr).toBe(0);
    expect(agent.requests.map((q) => q.body)).toEqual([{ id: ID, root }]);
    expect(invoked()).toEqual([[fake, ...args]]);
  });

  /** A process standing in for a created container's init, waiting for start. */
  const createdInit = () => {
    const init = spawn('tail', ['-f', '/dev/null'], { stdio: 'ignore' }); // not "sleep": other suites look for theirs by name
    const gone = new Promise((resolve) => init.once('exit', resolve));
    return { env: { FAKE_STATUS: 'created', FAKE_PID: String(init.pid) }, init, gone };
  };
  const state = () => [fake, '--root', ROOT, 'state', ID];
  const killed = () => [fake, '--root', ROOT, 'kill', ID, 'KILL'];

  it('refuses to start when the agent refuses: reason on stderr and in the JSON log, container ended, start never run', async () => {
    agent.answer(() => ({ status: 403, body: 'identity unavailable: no CA\n' }));
    const log = join(dir, 'log.json');
    writeFileSync(log, '');
    const { env, init, gone } = createdInit();
    const r = await run([...flags(), '--root', ROOT, '--log', log, '--log-format', 'json', 'start', ID], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `switchyard: the agent refused to start container ${ID} (HTTP 403): identity unavailable: no CA`,
    );
    expect(invoked()).toEqual([state(), killed()]);
    await gone;
    expect(init.signalCode).toBe('SIGKILL');
    const line = JSON.parse(readFileSync(log, 'utf8'));
    expect(line).toMatchObject({ level: 'error', msg: expect.stringContaining('identity unavailable') });
    expect(Number.isNaN(Date.parse(line.time))).toBe(false);
  });

  it('refuses to start when no agent listens, or it does not answer in time', async () => {
    const first = createdInit();
    const down = await run([...flags(join(dir, 'none.sock')), '--root', ROOT, 'start', ID], first.env);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^switchyard: agent unavailable: no agent listens on .*none\.sock/);
    expect(down.stderr).toContain('not started until the agent answers');
    await first.gone;
    agent.answer(() => 'hang');
    const slow = await run([...flags(), '--switchyard-timeout=0.5', '--root', ROOT, 'start', ID]);
    expect(slow.status).toBe(1);
    expect(slow.stderr).toContain('did not answer in time');
    // The second container was no longer "created" (stopped): it is not killed again.
    expect(invoked()).toEqual([state(), killed(), state()]);
  });

  it.each([
    [['--root', 'relative/root', 'start', ID], '--root as an absolute path'],
    [['start', ID], '--root as an absolute path'],
    [['--switchyard-timeout=soon', '--root', ROOT, 'start', ID], '--switchyard-timeout must be'],
    [['--switchyard-socket', '--root', ROOT, 'start', ID], 'needs a value'],
    [['--switchyard-sock=/x', '--root', ROOT, 'delete', ID], 'unknown flag'],
  ])('refuses %j without asking the agent or running anything', async (args, reason) => {
    const r = await run([...flags(), ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(reason);
    expect(invoked()).toEqual([]);
    expect(agent.requests).toHaveLength(0);
  });

  it('finds runc on PATH, skipping itself when it is installed under that name', async () => {
    const self = join(dir, 'self');
    const real = join(dir, 'real');
    mkdirSync(self, { recursive: true });
    mkdirSync(real, { recursive: true });
    rmSync(join(self, 'runc'), { force: true });
    rmSync(join(real, 'runc'), { force: true });
    symlinkSync(wrapper, join(self, 'runc'));
    symlinkSync(fake, join(real, 'runc'));
    const r = await run([`--switchyard-socket=${agent.socket}`, '--root', ROOT, 'state', ID], {
      PATH: `${self}:${real}:/usr/bin:/bin`,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(invoked()).toEqual([[join(real, 'runc'), '--root', ROOT, 'state', ID]]);
    const missing = await run(['--switchyard-runtime=no-such-runc', 'state', ID], { PATH: real });
    expect([missing.status, missing.stderr]).toEqual([
      1,
      expect.stringContaining('no-such-runc is not on PATH'),
    ]);
  });
});
