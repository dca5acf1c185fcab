import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_PATHS, type CniError, type CniRequest } from './protocol.js';
import { type AgentStandIn, startAgentStandIn } from './testing/agent-stand-in.js';
import { type Finished, programs, runProgram, sanitizerReport, VARIANTS } from './testing/programs.js';

const PREV_RESULT = `{
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/cni-1"}],
    "ips": [{"address": "10.22.0.5/16", "interface": 0}]
  }`;

function config(extra: Record<string, unknown> = {}, socket?: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'pods',
    type: 'switchyard-cni',
    ...(socket ? { agentSocket: socket } : {}),
    excludeNamespaces: ['kube-system'],
    ...extra,
  });
}

/** The configuration as a runtime passes it for ADD: with the main plugin's result, byte for byte. */
function addConfig(socket: string, extra: Record<string, unknown> = {}): string {
  return config(extra, socket).replace(/}$/, `,"prevResult":${PREV_RESULT}}`);
}

function cniEnv(
  command: string,
  namespace = 'shop',
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'f00dcafe',
    CNI_NETNS: '/var/run/netns/cni-1',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=web-0;K8S_POD_UID=u-1`,
    ...more,
  };
}

/** Listens on `path` in a child process, then kills it with SIGKILL: the socket file stays. */
async function killedListener(path: string): Promise<void> {
  const code = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

function cniError(run: Finished): CniError {
  expect(run.status, run.stderr).toBe(1);
  const error = JSON.parse(run.stdout) as CniError;
  expect(typeof error.msg).toBe('string');
  return error;
}

describe.each(VARIANTS)('switchyard-cni (%s build)', (variant) => {
  let cni: string;
  let agent: AgentStandIn;
  let runs: Finished[] = [];
  const run = async (env: Record<string, string>, stdin: string | Buffer) => {
    const r = await runProgram(cni, [], env, stdin);
    runs.push(r);
    return r;
  };

  beforeAll(async () => {
    cni = (await programs(variant)).cni;
    agent = await startAgentStandIn();
  });
  afterAll(async () => {
    await agent?.close();
  });
  beforeEach(() => {
    agent.requests.length = 0;
    agent.answer(() => ({ status: 200, body: '' }));
    runs = [];
    return () => {
      for (const r of runs) expect(sanitizerReport(r.stderr), r.stderr).toBe(false);
    };
  });

  it('answers VERSION itself, in the version asked for', async () => {
    const r = await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      cniVersion: '0.4.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'],
    });
    expect(agent.requests).toHaveLength(0);
  });

  it('forwards ADD to the agent as HTTP/1.0 and prints its answer as it is', async () => {
    const answer = `{"cniVersion":"1.0.0","ips":[{"address":"10.22.0.5/16"}],"x":"\\u00e9"}`;
    agent.answer(() => ({ status: 200, body: answer }));
    const stdin = addConfig(agent.socket);
    const r = await run(cniEnv('ADD', 'shop', { CNI_NETNS: '/var/run/netns/"odd\\name"\u00e9' }), stdin);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${answer}\n`);
    expect(agent.requests).toHaveLength(1);
    const [request] = agent.requests;
    expect(request).toMatchObject({ method: 'POST', path: AGENT_PATHS.cni, httpVersion: '1.0' });
    expect(request?.headers['content-type']).toBe('application/json');
    const body = request?.body as CniRequest;
    expect(body).toEqual({
      command: 'ADD',
      containerId: 'f00dcafe',
      netns: '/var/run/netns/"odd\\name"\u00e9',
      ifName: 'eth0',
      args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_UID=u-1',
      config: JSON.parse(stdin),
    });
    expect(request?.raw).toContain(`"config":${stdin}}`);
  });

  it('prints nothing for DEL and CHECK the agent accepted; DEL needs no CNI_NETNS', async () => {
    const del = await run(cniEnv('DEL', 'shop', { CNI_NETNS: '' }), config({}, agent.socket));
    const check = await run(cniEnv('CHECK'), addConfig(agent.socket));
    expect([del.status, del.stdout, check.status, check.stdout]).toEqual([0, '', 0, '']);
    expect(agent.requests.map((r) => (r.body as CniRequest).command)).toEqual(['DEL', 'CHECK']);
    expect(agent.requests[0]?.body).toMatchObject({ netns: '' });
  });

  it("fails with the agent's CniError when the agent refuses", async () => {
    const refusal = { cniVersion: '1.0.0', code: 101, msg: 'capture failed: nft said no', details: 'x' };
    agent.answer(() => ({ status: 500, body: JSON.stringify(refusal) }));
    const r = await run(cniEnv('ADD'), addConfig(agent.socket));
    expect(cniError(r)).toEqual(refusal);
  });

  it('turns a refusal that is not JSON into "try again later" quoting the text', async () => {
    agent.answer(() => ({ status: 503, body: 'not ready: \u0001 loading' }));
    const error = cniError(await run(cniEnv('ADD'), addConfig(agent.socket)));
    expect(error.code).toBe(11);
    expect(error.msg).toContain('HTTP 503');
    expect(error.msg).toContain('not ready');
  });

  it('refuses an ADD answer that is not a JSON object, or larger than 1 MiB', async () => {
    agent.answer(() => ({ status: 200, body: 'ok' }));
    expect(cniError(await run(cniEnv('ADD'), addConfig(agent.socket))).code).toBe(5);
    agent.answer(() => ({ status: 200, body: `{"pad":"${'x'.repeat(1 << 20)}"}` }));
    const big = cniError(await run(cniEnv('ADD'), addConfig(agent.socket)));
    expect([big.code, big.msg]).toEqual([5, expect.stringContaining('larger than 1 MiB')]);
  });

  it('fails ADD and CHECK closed with "try again later" when no agent listens; DEL succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swy-cni-down-'));
    try {
      const missing = join(dir, 'agent.sock');
      const add = cniError(await run(cniEnv('ADD'), addConfig(missing)));
      expect(add.code).toBe(11);
      expect(add.msg).toContain(missing);
      expect(add.msg).toContain('pod shop/web-0');
      expect(add.msg).toContain('not started until the agent');
      expect(cniError(await run(cniEnv('CHECK'), addConfig(missing))).code).toBe(11);
      const del = await run(cniEnv('DEL'), config({}, missing));
      expect([del.status, del.stdout]).toEqual([0, '']);
      // The socket file an agent killed with SIGKILL leaves: connect is refused, not missing.
      const stale = join(dir, 'stale.sock');
      await killedListener(stale);
      const refused = cniError(await run(cniEnv('ADD'), addConfig(stale)));
      expect([refused.code, refused.msg]).toEqual([11, expect.stringContaining('Connection refused')]);
      expect((await run(cniEnv('DEL'), config({}, stale))).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on an agent that does not answer within agentTimeoutSeconds', async () => {
    agent.answer(() => 'hang');
    const error = cniError(await run(cniEnv('ADD'), addConfig(agent.socket, { agentTimeoutSeconds: 0.5 })));
    expect([error.code, error.msg]).toEqual([11, expect.stringContaining('did not answer in time')]);
    const del = await run(cniEnv('DEL'), config({ agentTimeoutSeconds: 0.5 }, agent.socket));
    expect([del.status, del.stdout]).toEqual([0, '']);
    expect(agent.requests).toHaveLength(2);
  });

  it.each([
    ['closes the connection without answering', 'close' as const, 11, 'before a whole answer'],
    [
      'stops in the middle of the body',
      { raw: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cni' },
      11,
      'in time',
    ],
    ['stops in the middle of the headers', { raw: 'HTTP/1.1 200 OK\r\nContent-' }, 11, 'in time'],
    [
      'answers chunked',
      { raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n' },
      5,
      'not an HTTP/1.x',
    ],
    ['answers something that is not HTTP', { raw: 'SSH-2.0-OpenSSH\r\n\r\n' }, 5, 'not an HTTP/1.x'],
    [
      'announces a body over 1 MiB',
      { raw: 'HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n' },
      5,
      'larger than 1 MiB',
    ],
    [
      'sends two different lengths',
      { raw: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}' },
      5,
      'not an HTTP/1.x',
    ],
  ])('fails ADD when the agent %s; DEL still succeeds', async (_what, answer, code, message) => {
    agent.answer(() => answer);
    const error = cniError(await run(cniEnv('ADD'), addConfig(agent.socket, { agentTimeoutSeconds: 0.5 })));
    expect([error.code, error.msg]).toEqual([code, expect.stringContaining(message)]);
    const del = await run(cniEnv('DEL'), config({ agentTimeoutSeconds: 0.5 }, agent.socket));
    expect([del.status, del.stdout]).toEqual([0, '']);
  });

  it('passes pods of excluded namespaces through without asking, also while the agent is down', async () => {
    const missing = '/nonexistent/agent.sock';
    const add = await run(cniEnv('ADD', 'kube-system'), addConfig(missing));
    expect([add.status, add.stdout]).toEqual([0, `${PREV_RESULT}\n`]);
    const bare = await run(cniEnv('ADD', 'kube-system'), config({ cniVersion: '0.4.0' }, missing));
    expect([bare.status, bare.stdout]).toEqual([0, '{"cniVersion":"0.4.0"}\n']);
    for (const command of ['DEL', 'CHECK']) {
      const r = await run(cniEnv(command, 'kube-system'), addConfig(missing));
      expect([r.status, r.stdout]).toEqual([0, '']);
    }
    // The same pod name in another namespace is not excluded.
    expect((await run(cniEnv('ADD', 'kube-systemx'), addConfig(agent.socket))).status).toBe(1);
    expect(agent.requests).toHaveLength(1);
  });

  it('refuses more than 1 MiB of configuration without asking the agent', async () => {
    const huge = config({ pad: 'x'.repeat(1 << 20) }, agent.socket);
    const error = cniError(await run(cniEnv('ADD'), huge));
    expect([error.code, error.msg]).toEqual([7, expect.stringContaining('larger than 1 MiB')]);
    expect(agent.requests).toHaveLength(0);
  });

  it.each([
    ['cut JSON', '{"cniVersion":"1.0.0",', 6],
    ['an array', '[{"cniVersion":"1.0.0"}]', 6],
    ['two objects', '{"cniVersion":"1.0.0"}{}', 6],
    ['a lone surrogate byte', '{"cniVersion":"1.0.0","n":"\xed\xa0\x80"}', 6],
    ['no cniVersion', '{"name":"pods"}', 7],
    ['an unknown cniVersion', '{"cniVersion":"9.9.9"}', 1],
    ['a relative agentSocket', '{"cniVersion":"1.0.0","agentSocket":"agent.sock"}', 7],
    ['a negative timeout', '{"cniVersion":"1.0.0","agentTimeoutSeconds":-1}', 7],
    ['a timeout as text', '{"cniVersion":"1.0.0","agentTimeoutSeconds":"5"}', 7],
    ['excludeNamespaces of numbers', '{"cniVersion":"1.0.0","excludeNamespaces":[1]}', 7],
    ['a prevResult that is a list', '{"cniVersion":"1.0.0","prevResult":[]}', 7],
  ])('refuses %s with CNI code %i and asks nothing', async (_what, stdin, code) => {
    const error = cniError(await run(cniEnv('ADD'), Buffer.from(stdin, 'latin1')));
    expect(error.code).toBe(code);
    expect(agent.requests).toHaveLength(0);
  });

  it.each([
    ['no CNI_COMMAND', { CNI_COMMAND: '' }],
    ['an unknown CNI_COMMAND', { CNI_COMMAND: 'GC' }],
    ['no CNI_CONTAINERID', { CNI_CONTAINERID: '' }],
    ['no CNI_IFNAME', { CNI_IFNAME: '' }],
    ['no CNI_NETNS for ADD', { CNI_NETNS: '' }],
    ['a malformed CNI_ARGS', { CNI_ARGS: 'K8S_POD_NAMESPACE=shop;garbage' }],
    ['a pod name too long', { CNI_ARGS: `K8S_POD_NAME=${'n'.repeat(300)}` }],
  ])('refuses %s with CNI code 4', async (_what, env) => {
    const error = cniError(await run({ ...cniEnv('ADD'), ...env }, addConfig(agent.socket)));
    expect(error.code).toBe(4);
    expect(agent.requests).toHaveLength(0);
  });
});
