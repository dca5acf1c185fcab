// Random argument lists for the sanitized runtime wrapper (the shape runc's callers use, mixed with
// junk), against a fake runtime and the agent stand-in: it never crashes, no sanitizer reports, and
// it either becomes the runtime — with exactly its arguments minus the leading --switchyard-* flags —
// or refuses with a `switchyard:` reason; it never runs the runtime's start unless the agent said yes.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentStandIn, startAgentStandIn } from './testing/agent-stand-in.js';
import { programs, runProgram, sanitizerReport } from './testing/programs.js';

const CASES = 600;
const agrees = (id: string) => id === 'id1';
const PARALLEL = 6;
const SEED = Number(process.env.SWY_FUZZ_SEED ?? 0x21c0de);

const WORDS = [
  '--root',
  '--root=/r',
  '-root',
  '/run/x',
  'relative',
  '--log',
  '/l',
  '--log-format',
  'json',
  '--log-format=json',
  '--debug',
  '--systemd-cgroup',
  '--criu',
  'start',
  'create',
  'delete',
  'state',
  'exec',
  'kill',
  'id1',
  '-',
  '--',
  '--=',
  '--switchyard-timeout=0.3',
  '--switchyard-timeout=x',
  '--switchyard-x=1',
  '--switchyard-socket',
  '--switchyard-socket=',
  'é',
  '',
  ' ',
  'a'.repeat(300),
  '--root=',
  '--bundle',
  '-h',
];

const VALUE_FLAGS = ['root', 'log', 'log-format', 'log-level', 'criu', 'rootless', 'cgroup-manager'];

/**
 * What the wrapper should do with `args` (after the two leading flags the test adds): the
 * invocations of the runtime it makes, and whether it ends by running it (exit status 42).
 */
function model(args: string[], agentSays: (id: string) => boolean): { runs: string[][]; execs: boolean } {
  const pass: string[] = [];
  let root: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('--switchyard-')) {
      const [name, ...rest] = a.slice('--switchyard-'.length).split('=');
      const value = rest.join('=');
      const seconds = Number(value);
      const ok =
        rest.length > 0 &&
        value !== '' &&
        (name === 'socket' || name === 'runtime' || (name === 'timeout' && seconds > 0 && seconds <= 3600));
      if (!ok) return { runs: [], execs: false };
      continue;
    }
    if (!a.startsWith('-') || a === '-') break;
    pass.push(a);
    const name = a.slice(a[1] === '-' ? 2 : 1);
    const eq = name.indexOf('=');
    const key = eq < 0 ? name : name.slice(0, eq);
    let value = eq < 0 ? undefined : name.slice(eq + 1);
    if (value === undefined && VALUE_FLAGS.includes(key) && i + 1 < args.length) {
      value = args[++i] as string;
      pass.push(value);
    }
    if (key === 'root') root = value;
  }
  const rest = args.slice(i);
  pass.push(...rest);
  const id = rest[0] === 'start' ? rest.slice(1).find((x) => !x.startsWith('-')) : undefined;
  if (id === undefined || agentSays(id)) {
    if (id !== undefined && !root?.startsWith('/')) return { runs: [], execs: false };
    return { runs: [pass], execs: true };
  }
  if (!root?.startsWith('/')) return { runs: [], execs: false };
  return { runs: [['--root', root, 'state', id]], execs: false }; // refused: it looks for a created container to end
}

describe('switchyard-runtime under fuzzing (sanitized build)', () => {
  let wrapper: string;
  let agent: AgentStandIn;
  let dir: string;
  let fake: string;

  beforeAll(async () => {
    wrapper = (await programs('sanitized')).runtime;
    agent = await startAgentStandIn();
    agent.answer((request) =>
      agrees((request.body as { id: string }).id) ? { status: 200 } : { status: 403 },
    );
    dir = mkdtempSync(join(tmpdir(), 'swy-runtime-fuzz-'));
    fake = join(dir, 'fake');
    writeFileSync(
      fake,
      `#!/bin/sh\n{ for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\n'; } >> "$RECORD"\nexit 42\n`,
    );
    chmodSync(fake, 0o755);
  });
  afterAll(async () => {
    await agent?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ${CASES} random argument lists`, async () => {
    let a = SEED >>> 0;
    const rnd = () => {
      a = (Math.imul(a ^ (a >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
      return a / 4294967296;
    };
    let next = 0;
    const outcomes = { ran: 0, refused: 0 };
    const worker = async () => {
      while (next < CASES) {
        const n = next++;
        const record = join(dir, `argv-${n}`);
        const pick = () => WORDS[Math.floor(rnd() * WORDS.length)] as string;
        const junk = (most: number) => Array.from({ length: Math.floor(rnd() * most) }, pick);
        // Half are shaped like the shim's `start` (so the agent is asked), with junk mixed in.
        const args =
          rnd() < 0.5
            ? [
                ...junk(3),
                rnd() < 0.7 ? '--root=/run/x' : pick(),
                'start',
                rnd() < 0.5 ? 'id1' : 'id2',
                ...junk(2),
              ]
            : junk(8);
        const all = [`--switchyard-socket=${agent.socket}`, `--switchyard-runtime=${fake}`, ...args];
        const r = await runProgram(wrapper, all, { RECORD: record });
        const what = `${JSON.stringify(all)}\n${r.stderr}`;
        expect(sanitizerReport(r.stderr), what).toBe(false);
        expect(r.signal, what).toBeNull();
        const expected = model(args, agrees);
        const runs = existsSync(record)
          ? readFileSync(record, 'utf8')
              .split('\n')
              .slice(0, -1)
              .map((line) => line.split('\0').slice(0, -1))
          : [];
        expect(runs, what).toEqual(expected.runs);
        outcomes[expected.execs ? 'ran' : 'refused']++;
        if (expected.execs) expect(r.status, what).toBe(42);
        else expect([r.status, r.stderr.startsWith('switchyard: ')], what).toEqual([1, true]);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    expect(next).toBeGreaterThanOrEqual(CASES);
    // Both ways out were taken often, and the agent was asked (and said yes) along the way.
    expect(Math.min(outcomes.ran, outcomes.refused)).toBeGreaterThan(CASES / 10);
    expect(agent.requests.length).toBeGreaterThan(CASES / 50);
    expect(agent.requests.some((q) => agrees((q.body as { id: string }).id))).toBe(true);
  }, 300_000);
});
