import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './program.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-agent-cli-'));

async function agent(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { code, stdout, stderr };
}

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
    expect(r.stderr).toMatch(/is not valid YAML or JSON at line \d+, column \d+/);
  });

  it('validates a good config and its workload file', async () => {
    writeFileSync(join(dir, 'agent.yaml'), 'identity: { caDir: ca }\n');
    writeFileSync(join(dir, 'workloads.yaml'), 'workloads: [{ name: a, network: { netns: a } }]\n');
    const r = await agent('validate', '--config', join(dir, 'agent.yaml'));
    expect(r.stdout).toMatch(/valid \(source file, driver tproxy, carrier hbone; 1 workload\)/);
    expect(r.code).toBe(0);
  });

  it('status says when no agent answers', async () => {
    writeFileSync(join(dir, 'idle.yaml'), 'identity: { caDir: ca }\nadmin: { port: 1 }\n');
    const r = await agent('status', '--config', join(dir, 'idle.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no agent answers at http:\/\/127\.0\.0\.1:1\/status/);
  });
});
