import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './testing/run-cli.js';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function writePlugin(name: string, body: string): Promise<string> {
  const file = join(scratch, name);
  await writeFile(file, body);
  return file;
}

describe('switchyard policy validate', () => {
  it('accepts a valid YAML policy and summarizes it', async () => {
    const r = await cli('policy', 'validate', 'examples/policies/sidecar.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid policy "sidecar" (tcp, ipv4 + ipv6)');
    expect(r.stdout).toContain('inbound  → port 15006');
  });

  it('prints the normalized policy with --json', async () => {
    const r = await cli('policy', 'validate', 'examples/policies/sidecar.yaml', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(true);
    expect(out.policy.bypass).toEqual({ mark: 0x539, uid: 1337 });
    expect(out.policy.outbound.excludeCidrs).toEqual(['169.254.169.254/32']);
  });

  it('exits 2 on a policy with three mistakes and names all three with their field paths', async () => {
    const r = await cli('policy', 'validate', 'examples/policies/bad.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('3 problems');
    expect(r.stderr).toMatch(/inbound\.port: 0 is not a port/);
    expect(r.stderr).toMatch(/outbound\.excludeCidrs\[0\]: "10\.0\.0\.1\/8" has host bits set/);
    expect(r.stderr).toMatch(/bypass\.userSid: "administrator" is not a Windows SID/);
    const json = await cli('policy', 'validate', 'examples/policies/bad.json', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).issues.map((i: { path: string }) => i.path)).toEqual([
      'inbound.port',
      'outbound.excludeCidrs[0]',
      'bypass.userSid',
    ]);
  });

  it('exits 2 naming the file when it is missing or not JSON/YAML', async () => {
    const missing = await cli('policy', 'validate', 'no-such.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /cannot read no-such\.json: there is no such file.*\[SWY_ERR_INPUT_INVALID\]/,
    );
    const broken = await writePlugin('broken.json', '{"inbound": {"port": 15006,,}}');
    const bad = await cli('policy', 'validate', broken, '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({
      code: 'SWY_ERR_INPUT_INVALID',
      message: expect.stringMatching(/line 1/),
    });
  });
});

describe('switchyard drivers', () => {
  it('lists the built-in memory driver as usable', async () => {
    const r = await cli('drivers', '--json');
    expect(r.code).toBe(0);
    const memory = JSON.parse(r.stdout).drivers.find((d: { name: string }) => d.name === 'memory');
    expect(memory).toMatchObject({ usable: true, origin: 'builtin', problems: [] });
  });

  it('loads a third-party driver with --driver-module and lists it beside memory', async () => {
    const r = await cli('drivers', '--driver-module', './examples/driver-plugin', '--json');
    expect(r.code).toBe(0);
    const drivers = JSON.parse(r.stdout).drivers;
    expect(drivers.map((d: { name: string }) => d.name)).toEqual(['files', 'hns', 'memory', 'tproxy']);
    expect(drivers[0]).toMatchObject({
      origin: 'module',
      specifier: './examples/driver-plugin',
      usable: true,
    });
    const text = await cli('--driver-module', './examples/driver-plugin', 'drivers');
    expect(text.stdout).toMatch(/^files\s+yes\s+module \.\/examples\/driver-plugin$/m);
  });

  it('refuses a second driver of the same name with SWY_ERR_DRIVER_DUPLICATE (exit 2)', async () => {
    const dup = await writePlugin(
      'dup.mjs',
      `export default { name: 'files', apiVersion: 1, description: 'impostor', create() { throw new Error('unused'); } };`,
    );
    const r = await cli(
      'drivers',
      '--driver-module',
      './examples/driver-plugin',
      '--driver-module',
      dup,
      '--json',
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'SWY_ERR_DRIVER_DUPLICATE' });
    const builtinName = await writePlugin(
      'memory.mjs',
      `export const driver = { name: 'memory', apiVersion: 1, description: 'impostor', create() {} };`,
    );
    const r2 = await cli('drivers', '--driver-module', builtinName);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/"memory" is already registered.*\(built in\).*\[SWY_ERR_DRIVER_DUPLICATE\]/);
  });

  it('refuses a driver written for another driver API (exit 2) and explains a module without one (exit 1)', async () => {
    const future = await writePlugin(
      'future.mjs',
      `export default { name: 'future', apiVersion: 99, description: '', create() {} };`,
    );
    const r = await cli('drivers', '--driver-module', future);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/driver API v99.*\[SWY_ERR_DRIVER_INCOMPATIBLE\]/);
    const empty = await writePlugin('empty.mjs', 'export const nothing = 1;');
    const r2 = await cli('drivers', '--driver-module', empty);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/exports no driver definition.*\[SWY_ERR_DRIVER_LOAD\]/);
    const r3 = await cli('drivers', '--driver-module', './nowhere');
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/nothing at .*nowhere/);
  });
});

describe('switchyard usage', () => {
  it('prints help with the exit codes, and the version, exiting 0', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 failure .*, 2 bad input/);
    expect(help.stdout).toMatch(/drivers/);
    const version = await cli('--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on an unknown command, option or missing argument', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('drivers', '--frob')).code).toBe(2);
    const missing = await cli('policy', 'validate');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'file'/);
  });
});

describe('switchyard agent', () => {
  it('is the node agent: its own flags pass through, its errors and exit codes are its own', async () => {
    const help = await cli('agent', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: switchyard-agent/);
    const missing = await cli('agent', 'validate', '--config', join(scratch, 'no-such-agent.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the agent config .*no-such-agent\.yaml/);
  });
});
