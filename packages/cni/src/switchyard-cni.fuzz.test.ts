// Thousands of cut, corrupted and random configurations fed to the sanitized plugin, with the agent
// stand-in up: it never crashes, no sanitizer reports, stdout is always what CNI allows (one JSON
// object, or nothing for DEL/CHECK), and it agrees with JSON.parse about what is JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CniError, CniRequest } from './protocol.js';
import { type AgentStandIn, startAgentStandIn } from './testing/agent-stand-in.js';
import { type Finished, programs, runProgram, sanitizerReport } from './testing/programs.js';

const CASES = 2000;
const PARALLEL = 6;
const SEED = Number(process.env.SWY_FUZZ_SEED ?? 0x5eed21c);

/** mulberry32: a small seeded generator, so a failure is replayed with SWY_FUZZ_SEED. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\\u',
  '\\ud800',
  'null',
  'true',
  '-',
  '0',
  '1e',
  '.',
  ' ',
  '\n',
];

function seeds(socket: string): string[] {
  const prev = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'eth0' }],
    ips: [{ address: '10.1.0.2/24', interface: 0 }],
  };
  return [
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'n',
      type: 'switchyard-cni',
      agentSocket: socket,
      prevResult: prev,
    }),
    JSON.stringify({
      cniVersion: '0.4.0',
      agentSocket: socket,
      excludeNamespaces: ['kube-system', 'fuzz-ex'],
    }),
    JSON.stringify({
      cniVersion: '1.0.0',
      agentSocket: socket,
      agentTimeoutSeconds: 2,
      nested: { a: [1, 2.5e3, -0.1, 'é\u2028'] },
    }),
    `{ "cniVersion" : "0.3.1" , "agentSocket":"${socket}", "k\\u0065y":"\\ud83d\\ude00\\n", "prevResult": {} }`,
  ];
}

function mutate(input: Buffer, rnd: () => number): Buffer {
  const pick = (n: number) => Math.floor(rnd() * n);
  const at = pick(input.length + 1);
  switch (pick(8)) {
    case 0:
      return input.subarray(0, at); // cut
    case 1: {
      const copy = Buffer.from(input);
      if (copy.length) copy[pick(copy.length)] = pick(256); // corrupt one byte
      return copy;
    }
    case 2:
      return Buffer.concat([
        input.subarray(0, at),
        Buffer.from(TOKENS[pick(TOKENS.length)] ?? ''),
        input.subarray(at),
      ]);
    case 3:
      return Buffer.concat([input.subarray(0, at), input.subarray(at + 1 + pick(20))]); // delete a run
    case 4:
      return Buffer.from(Array.from({ length: pick(300) }, () => pick(256))); // random bytes
    case 5: {
      const depth = 40 + pick(60); // around the nesting limit
      return Buffer.from(
        `{"cniVersion":"1.0.0","d":${'['.repeat(depth)}${']'.repeat(pick(2) ? depth : pick(depth))}}`,
      );
    }
    case 6:
      return Buffer.concat([input.subarray(0, at), input.subarray(pick(input.length + 1))]); // splice
    default:
      return Buffer.from(Array.from({ length: 1 + pick(40) }, () => TOKENS[pick(TOKENS.length)]).join(''));
  }
}

function parsesAsObject(input: Buffer): boolean {
  const text = input.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(input)) return false; // not UTF-8: the plugin refuses it
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function check(command: string, input: Buffer, r: Finished, sent: CniRequest | undefined): void {
  const what = `${command} ${JSON.stringify(input.toString('latin1'))}\n${r.stdout}\n${r.stderr}`;
  expect(sanitizerReport(r.stderr), what).toBe(false);
  expect(r.signal, what).toBeNull();
  expect([0, 1], what).toContain(r.status);
  if (r.status === 1) {
    const error = JSON.parse(r.stdout) as CniError;
    expect(typeof error.code === 'number' && typeof error.msg === 'string', what).toBe(true);
  } else if (command === 'DEL' || command === 'CHECK') {
    expect(r.stdout, what).toBe('');
  } else {
    expect(typeof JSON.parse(r.stdout), what).toBe('object');
  }
  if (command !== 'VERSION' && !parsesAsObject(input)) expect(r.status, what).toBe(1);
  if (sent) expect(sent.config, what).toEqual(JSON.parse(input.toString('utf8')));
}

describe('switchyard-cni under fuzzing (sanitized build)', () => {
  let cni: string;
  let agent: AgentStandIn;
  const sent = new Map<string, CniRequest>();

  beforeAll(async () => {
    cni = (await programs('sanitized')).cni;
    agent = await startAgentStandIn();
    agent.answer((request) => {
      const body = request.body as CniRequest;
      sent.set(body.containerId, body);
      if (body.containerId.endsWith('7'))
        return { status: 500, body: '{"cniVersion":"1.0.0","code":101,"msg":"no"}' };
      return {
        status: 200,
        body: body.command === 'ADD' ? JSON.stringify(body.config.prevResult ?? {}) : '',
      };
    });
  });
  afterAll(async () => {
    await agent?.close();
  });

  it(`survives ${CASES} mutated configurations`, async () => {
    const rnd = generator(SEED);
    const base = seeds(agent.socket).map((s) => Buffer.from(s));
    const commands = ['ADD', 'ADD', 'DEL', 'CHECK', 'VERSION'];
    let next = 0;
    const worker = async () => {
      while (next < CASES) {
        const n = next++;
        let input = base[n % base.length] as Buffer;
        for (let k = Math.floor(rnd() * 4); k > 0; k--) input = mutate(input, rnd);
        const command = commands[Math.floor(rnd() * commands.length)] as string;
        const id = `fuzz-${n}`;
        const namespace = rnd() < 0.2 ? 'fuzz-ex' : 'fuzz';
        const r = await runProgram(
          cni,
          [],
          {
            CNI_COMMAND: command,
            CNI_CONTAINERID: id,
            CNI_NETNS: '/var/run/netns/fuzz',
            CNI_IFNAME: 'eth0',
            CNI_ARGS: `K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=p${n}`,
          },
          input,
        );
        check(command, input, r, sent.get(id));
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    expect(next).toBeGreaterThanOrEqual(CASES);
    expect(sent.size).toBeGreaterThan(CASES / 20); // a quarter go unmutated: enough reach the agent
  }, 600_000);
});
