import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentCli } from '../testing/run-agent-cli.js';
import { formatStatus } from './status-command.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-agent-cli-'));

const agent = agentCli;

describe('switchyard-agent', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a malformed config with exit 2, naming each field, without a stack trace', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'identity: { caDir: ca }\nports: { inbound: 99999 }\ncarier: mtls\n');
    const r = await agent('--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ports.inbound: 99999 is not a port');
    expect(r.stderr).toContain('carier: unknown field');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says where a syntax error is', async () => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, 'identity: { caDir: ca\n');
    const r = await agent('validate', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /is not valid YAML or JSON at line \d+, column \d+: [^\n]*[^:\n] \[SWY_ERR_INPUT_INVALID\]\n$/,
    );
    expect(r.stderr.match(/at line \d+, column \d+/g)).toHaveLength(1); // the position once, no dangling colon
  });

  it('check says to create a config that does not exist (or pass --config), not to correct it', async () => {
    const r = await agent('check', '--json', '--config', join(dir, 'nowhere.yaml'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).checks[0].fix).toMatch(/^create .*nowhere\.yaml .*, or pass --config FILE$/);
  });

  it('validates a good config and its workload file', async () => {
    writeFileSync(join(dir, 'agent.yaml'), 'identity: { caDir: ca }\n');
    writeFileSync(join(dir, 'workloads.yaml'), 'workloads: [{ name: a, network: { netns: a } }]\n');
    const r = await agent('validate', '--config', join(dir, 'agent.yaml'));
    expect(r.stdout).toMatch(/valid \(source file, driver tproxy, carrier hbone-native; 1 workload\)/);
    expect(r.code).toBe(0);
  });

  it('status says when no agent answers, as JSON under --json', async () => {
    writeFileSync(join(dir, 'idle.yaml'), 'identity: { caDir: ca }\nadmin: { port: 1 }\n');
    const r = await agent('status', '--config', join(dir, 'idle.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^switchyard-agent: no agent answers at http:\/\/127\.0\.0\.1:1\/status .*\[SWY_ERR_RUNTIME_UNAVAILABLE\]\n$/,
    );
    const j = await agent('status', '--config', join(dir, 'idle.yaml'), '--json');
    expect(j.code).toBe(1);
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'SWY_ERR_RUNTIME_UNAVAILABLE' });
  });

  it('has a version: --version, and "version" with the running agent (none here)', async () => {
    const v = await agent('--version');
    expect(v).toMatchObject({ code: 0, stdout: expect.stringMatching(/^switchyard-agent \d+\.\d+\.\d+\n$/) });
    const r = await agent('version', '--config', join(dir, 'idle.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^switchyard-agent \d+\.\d+\.\d+ \(node .*\)\nrunning agent: none answers \(no agent answers at http:\/\/127\.0\.0\.1:1\/status /,
    );
    const j = JSON.parse((await agent('version', '--json', '--config', join(dir, 'idle.yaml'))).stdout);
    expect(j).toMatchObject({
      agent: expect.any(String),
      node: process.versions.node,
      running: null,
      noAnswer: expect.stringMatching(/^no agent answers at http:\/\/127\.0\.0\.1:1\/status/),
    });
    const none = await agent('version', '--config', join(dir, 'nowhere.yaml'));
    expect(none.stdout).toMatch(/running agent: none answers \(.*nowhere\.yaml.*\)\n$/);
  });

  it('usage mistakes carry a code, and come out as JSON under --json', async () => {
    const r = await agent('stauts');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^switchyard-agent: .*\[SWY_ERR_INPUT_INVALID\]\n$/);
    const j = await agent('check', '--jsn', '--json');
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout).error.code).toBe('SWY_ERR_INPUT_INVALID');
    const d = await agent('--dry-run', '--config', join(dir, 'idle.yaml'));
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--dry-run goes with --uninstall/);
    const l = await agent('log-level', 'loud', '--config', join(dir, 'idle.yaml'));
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/log level "loud": use one of debug, info, warn, error/);
  });

  it('validate --json', async () => {
    const r = await agent('validate', '--json', '--config', join(dir, 'agent.yaml'));
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, source: 'file', workloads: 1 });
  });

  it('--uninstall --dry-run changes nothing and reports only what is there; nothing there, nothing claimed', async () => {
    const state = join(dir, 'never-made', 'deep');
    writeFileSync(join(dir, 'dry.yaml'), `identity: { caDir: ca }\nstateDir: ${state}\n`);
    const r = await agent('--uninstall', '--dry-run', '--config', join(dir, 'dry.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Nothing to remove: no capture rules, certificates or journal of the agent (state ${state}).\nNothing was changed (--dry-run).\n`,
    );
    expect(existsSync(join(dir, 'never-made'))).toBe(false);
    const j = await agent('--uninstall', '--dry-run', '--json', '--config', join(dir, 'dry.yaml'));
    expect(JSON.parse(j.stdout)).toEqual({
      removed: [],
      gone: [],
      certificates: false,
      journal: false,
      dryRun: true,
    });
  });
});

describe('formatStatus', () => {
  const base = { node: 'n1', pid: 7, version: '0.1.0', source: 'file', driver: 'tproxy', workloads: [] };

  it('says what a starting agent waits for', () => {
    expect(formatStatus({ ...base, ready: false, starting: 'the first snapshot of the file source' })).toBe(
      'node n1 · source file · driver tproxy · pid 7 · version 0.1.0 · starting: waiting for the first snapshot of the file source\nno workloads\n',
    );
  });

  it('shows a rejected update of the source above the workloads it left as they were', () => {
    const text = formatStatus({
      ...base,
      ready: true,
      sourceProblem: {
        reason: 'workload file w.yaml: workloads[0].name: missing',
        since: '2026-12-07T05:00:00.000Z',
      },
    });
    expect(text).toContain(
      'the last update of the file source was rejected (2026-12-07T05:00:00.000Z); the workloads below are as they were before it:\n  workload file w.yaml: workloads[0].name: missing\n',
    );
  });

  it('reads an answer without workloads (an older or starting agent) without crashing', () => {
    expect(formatStatus({ ...base, workloads: undefined as never, ready: false })).toMatch(/no workloads\n$/);
  });
});
