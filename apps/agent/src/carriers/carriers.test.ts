import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_CARRIERS } from '@switchyard/dataplane';
import { CARRIER_API_VERSION, type CarrierDefinition } from '@switchyard/dataplane/carrier';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseWorkloadFile } from '../sources/parse-workload-file.js';
import { CARRIER_NAMES, carrierCapabilities, createCarrier } from './carriers.js';

const BUILD = 'SWITCHYARD_RELAY_NATIVE_BUILD';
const before = process.env[BUILD];
const dir = mkdtempSync(join(tmpdir(), 'swy-agent-carriers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  if (before === undefined) delete process.env[BUILD];
  else process.env[BUILD] = before;
  vi.resetModules();
});

/** The agent's command line, freshly imported: the native engine is loaded once per module copy. */
async function agentWith(build: string | undefined, ...argv: string[]) {
  if (build === undefined) delete process.env[BUILD];
  else process.env[BUILD] = build;
  vi.resetModules();
  const { run } = await import('../cli/program.js');
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { code, stdout, stderr };
}

describe('the agent carriers', () => {
  it('creates each carrier by its name; workloads on mtls-native share one factory (one engine)', async () => {
    for (const name of CARRIER_NAMES) expect((await createCarrier(name)).name).toBe(name);
    expect(await createCarrier('mtls-native')).toBe(await createCarrier('mtls-native'));
    expect(await createCarrier('mtls')).not.toBe(await createCarrier('mtls'));
  });

  it('takes carrier mtls-native in the config where the native engine runs', async () => {
    writeFileSync(join(dir, 'native.yaml'), 'identity: { caDir: ca }\ncarrier: mtls-native\n');
    writeFileSync(join(dir, 'workloads.yaml'), 'workloads: [{ name: a, network: { netns: a } }]\n');
    const r = await agentWith(before, 'validate', '--config', join(dir, 'native.yaml'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/carrier mtls-native/);
    expect(r.code).toBe(0);
  });

  it('refuses carrier mtls-native with exit 2 and the reason, no stack, where the engine cannot load', async () => {
    writeFileSync(join(dir, 'broken.yaml'), 'identity: { caDir: ca }\ncarrier: mtls-native\n');
    const r = await agentWith('none', 'validate', '--config', join(dir, 'broken.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /- carrier: "mtls-native" cannot run here: SWITCHYARD_RELAY_NATIVE_BUILD="none" names no build of the native relay engine.*; or use "mtls" \[SWY_ERR_INPUT_INVALID\]\n/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails a workload that names mtls-native where the engine cannot load, with a stable code', async () => {
    process.env[BUILD] = 'none';
    vi.resetModules();
    const fresh = await import('./carriers.js');
    await expect(fresh.createCarrier('mtls-native')).rejects.toMatchObject({
      code: 'SWY_ERR_UNSUPPORTED_PLATFORM',
      message: expect.stringMatching(/carrier mtls-native cannot run here: .*; or use "mtls"/),
    });
  });

  it('each built-in carrier module declares what the registry tells a plan before loading it', async () => {
    for (const [name, entry] of Object.entries(BUILTIN_CARRIERS)) {
      const definition = ((await import(entry.specifier)) as { default: CarrierDefinition }).default;
      expect(definition.name).toBe(name);
      expect(definition.apiVersion).toBe(CARRIER_API_VERSION);
      expect({ listens: definition.listens, needsEngine: definition.needsEngine }).toEqual({
        listens: 'listens' in entry ? entry.listens : undefined,
        needsEngine: 'needsEngine' in entry ? entry.needsEngine : undefined,
      });
      expect(carrierCapabilities(name as keyof typeof BUILTIN_CARRIERS)).toEqual(
        Object.fromEntries(Object.entries(entry).filter(([k]) => k === 'listens' || k === 'needsEngine')),
      );
    }
  });

  it('lets a workload in the file name mtls-native, and lists it among the choices', () => {
    const file = (carrier: string) => ({ workloads: [{ name: 'a', carrier, network: { netns: 'a' } }] });
    const ok = parseWorkloadFile(file('mtls-native'), dir, 'workloads.yaml');
    expect(ok[0]?.carrier).toBe('mtls-native');
    expect(() => parseWorkloadFile(file('udp'), dir, 'workloads.yaml')).toThrow(
      /"udp" is not one of "hbone", "hbone-native", "mtls", "mtls-native"/,
    );
  });
});
