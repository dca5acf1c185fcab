import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_CARRIERS } from '@switchyard/dataplane';
import { CARRIER_API_VERSION, type CarrierDefinition } from '@switchyard/dataplane/carrier';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { carrierCapabilities, carrierNames, createCarrier } from './carriers.js';

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
    for (const name of carrierNames()) expect((await createCarrier(name)).name).toBe(name);
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

  it('loads a third-party carrier the config names in carrierModules', async () => {
    const sub = join(dir, 'third-party');
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, 'acme-carrier.mjs'),
      `export default { name: 'acme', apiVersion: ${CARRIER_API_VERSION}, description: 'a test carrier', listens: { acme: 15010 }, create: () => ({ name: 'acme', create: () => ({ async outbound(c) { c.socket.destroy(); }, drain() {}, async close() {} }) }) };\n`,
    );
    writeFileSync(
      join(sub, 'agent.yaml'),
      'identity: { caDir: ca }\ncarrierModules: [./acme-carrier.mjs]\ncarrier: acme\n',
    );
    writeFileSync(
      join(sub, 'workloads.yaml'),
      'workloads: [{ name: a, carrier: acme, network: { netns: a } }]\n',
    );
    vi.resetModules();
    const { loadConfig } = await import('../config/validate-config.js');
    const fresh = await import('./carriers.js');
    const config = await loadConfig(join(sub, 'agent.yaml'));
    expect(config).toMatchObject({ carrier: 'acme', carrierModules: ['./acme-carrier.mjs'] });
    expect(fresh.carrierNames()).toEqual(['acme', 'hbone', 'hbone-native', 'mtls', 'mtls-native']);
    expect(fresh.carrierCapabilities('acme')).toEqual({ listens: { acme: 15010 } });
    expect((await fresh.createCarrier('acme')).name).toBe('acme');
  });

  it('refuses a carrierModules entry that is not there, and a carrier no module brings, with field paths', async () => {
    const sub = join(dir, 'broken-third-party');
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, 'agent.yaml'),
      'identity: { caDir: ca }\ncarrierModules: [switchyard-carrier-nowhere]\ncarrier: nowhere\n',
    );
    const r = await agentWith(before, 'validate', '--config', join(sub, 'agent.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /- carrierModules\[0\]: cannot find the carrier package "switchyard-carrier-nowhere" from .* or beside the agent; install it there/,
    );
    expect(r.stderr).toMatch(
      /- carrier: "nowhere" is not one of "hbone", "hbone-native", "mtls", "mtls-native"/,
    );
    writeFileSync(join(sub, 'plain.yaml'), 'identity: { caDir: ca }\ncarrier: acme\n');
    const plain = await agentWith(before, 'validate', '--config', join(sub, 'plain.yaml'));
    expect(plain.stderr).toMatch(
      /- carrier: "acme" is not one of "hbone", "hbone-native", "mtls", "mtls-native"/,
    );
  });
});

describe('the default carrier', () => {
  it('is hbone-native where the native engine loads (validate says so, text and JSON)', async () => {
    writeFileSync(join(dir, 'default.yaml'), 'identity: { caDir: ca }\n');
    const r = await agentWith(before, 'validate', '--config', join(dir, 'default.yaml'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/, carrier hbone-native; 1 workload\)\n$/);
    const j = await agentWith(before, 'validate', '--json', '--config', join(dir, 'default.yaml'));
    expect(JSON.parse(j.stdout)).toMatchObject({ carrier: 'hbone-native' });
    expect(JSON.parse(j.stdout).carrierFallback).toBeUndefined();
  });

  it('falls back to hbone where the engine cannot load, and says why', async () => {
    writeFileSync(join(dir, 'default.yaml'), 'identity: { caDir: ca }\n');
    const r = await agentWith('none', 'validate', '--config', join(dir, 'default.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /, carrier hbone \(hbone-native cannot run here: SWITCHYARD_RELAY_NATIVE_BUILD="none" names no build of the native relay engine.*\); 1 workload\)\n$/,
    );
    const j = await agentWith('none', 'validate', '--json', '--config', join(dir, 'default.yaml'));
    expect(JSON.parse(j.stdout)).toMatchObject({
      carrier: 'hbone',
      carrierFallback: { from: 'hbone-native', reason: expect.stringMatching(/names no build/) },
    });
  });

  it('never falls back from a carrier the config names: hbone-native there is refused, exit 2, no stack', async () => {
    writeFileSync(join(dir, 'pinned.yaml'), 'identity: { caDir: ca }\ncarrier: hbone-native\n');
    const r = await agentWith('none', 'validate', '--config', join(dir, 'pinned.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/- carrier: "hbone-native" cannot run here: .*names no build/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    writeFileSync(join(dir, 'pinned-js.yaml'), 'identity: { caDir: ca }\ncarrier: hbone\n');
    const js = await agentWith(before, 'validate', '--config', join(dir, 'pinned-js.yaml'));
    expect(js.stdout).toMatch(/, carrier hbone; 1 workload\)\n$/);
  });

  it('chooses in the agent what validate shows: pinned, default, fallback', async () => {
    const { chooseCarrier } = await import('./choose-carrier.js');
    expect(await chooseCarrier({ carrier: 'mtls', carrierPinned: true })).toEqual({
      name: 'mtls',
      pinned: true,
    });
    expect(await chooseCarrier({ carrier: 'hbone-native', carrierPinned: false })).toEqual({
      name: 'hbone-native',
      pinned: false,
    });
  });
});
