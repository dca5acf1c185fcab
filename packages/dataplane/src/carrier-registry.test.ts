import { describe, expect, it } from 'vitest';
import type { CarrierFactory } from './carrier.js';
import { CARRIER_API_VERSION, defineCarrier } from './carrier-definition.js';
import { BUILTIN_CARRIERS, CarrierRegistry } from './carrier-registry.js';

const factory = (name: string): CarrierFactory => ({
  name,
  create: () => ({ outbound: async (c) => void c.socket.destroy(), drain() {}, close: async () => {} }),
});
const acme = defineCarrier({
  name: 'acme',
  apiVersion: CARRIER_API_VERSION,
  description: 'a third-party carrier',
  listens: { acme: 15010 },
  create: () => factory('acme'),
});

/** A registry whose importer records what it was asked for and serves fake built-in modules. */
function registry(modules: Record<string, unknown> = {}) {
  const imported: string[] = [];
  const carriers = new CarrierRegistry({
    importModule: async (specifier) => {
      imported.push(specifier);
      if (!(specifier in modules))
        throw Object.assign(new Error(`Cannot find ${specifier}`), { code: 'ERR_MODULE_NOT_FOUND' });
      return modules[specifier];
    },
  });
  return { carriers, imported };
}

describe('the carrier registry', () => {
  it('names the built-in carriers and tells their capabilities without importing a module', () => {
    const { carriers, imported } = registry();
    expect(carriers.names()).toEqual(['hbone', 'hbone-native', 'mtls', 'mtls-native']);
    expect(carriers.capabilities('hbone')).toEqual({ listens: { hbone: 15008 } });
    expect(carriers.capabilities('mtls-native')).toEqual({ needsEngine: true });
    expect(carriers.capabilities('hbone-native')).toEqual({ needsEngine: true, listens: { hbone: 15008 } });
    expect(carriers.capabilities('mtls')).toEqual({});
    expect(imported).toEqual([]);
  });

  it('registers a third-party carrier like a third-party driver: by name, with what it declares', async () => {
    const { carriers } = registry();
    carriers.register(acme);
    carriers.register(acme); // the same module imported twice
    expect(carriers.names()).toContain('acme');
    expect(carriers.capabilities('acme')).toEqual({ listens: { acme: 15010 } });
    expect((await carriers.factory('acme')).name).toBe('acme');
  });

  it('loads a third-party carrier module by name (default or `carrier` export), and says what is wrong with one that is not', async () => {
    const { carriers } = registry({
      'switchyard-carrier-acme': { default: acme },
      './named.js': { carrier: { ...acme, name: 'named' } },
      'not-a-carrier': { something: 1 },
    });
    expect((await carriers.load('switchyard-carrier-acme')).name).toBe('acme');
    expect((await carriers.load('switchyard-carrier-acme')).name).toBe('acme'); // again: a no-op
    expect((await carriers.load('./named.js')).name).toBe('named');
    expect(carriers.names()).toEqual(['acme', 'hbone', 'hbone-native', 'mtls', 'mtls-native', 'named']);
    await expect(carriers.load('not-a-carrier')).rejects.toMatchObject({
      code: 'SWY_ERR_CARRIER_LOAD',
      message: expect.stringContaining('exports no carrier definition'),
    });
    await expect(carriers.load('missing-carrier')).rejects.toMatchObject({
      code: 'SWY_ERR_CARRIER_LOAD',
      message: expect.stringContaining(
        'the carrier module "missing-carrier" could not be loaded: Cannot find',
      ),
    });
  });

  it('refuses a duplicate, a built-in name, another API version and a non-definition, each with its code', () => {
    const { carriers } = registry();
    carriers.register(acme);
    expect(() => carriers.register({ ...acme })).toThrow(
      expect.objectContaining({ code: 'SWY_ERR_CARRIER_DUPLICATE' }),
    );
    expect(() => carriers.register({ ...acme, name: 'hbone' })).toThrow(/already registered \(built in\)/);
    expect(() => carriers.register({ ...acme, name: 'old', apiVersion: CARRIER_API_VERSION - 1 })).toThrow(
      expect.objectContaining({ code: 'SWY_ERR_CARRIER_INCOMPATIBLE' }),
    );
    expect(() => carriers.register({ name: 'x' })).toThrow(
      expect.objectContaining({ code: 'SWY_ERR_CARRIER_LOAD' }),
    );
    expect(() => carriers.register({ ...acme, name: 'Bad Name' })).toThrow(/not usable/);
  });

  it('names the choices for an unknown carrier', async () => {
    const { carriers } = registry();
    expect(() => carriers.capabilities('udp')).toThrow(
      /no carrier named "udp"; known carriers are "hbone", "hbone-native", "mtls", "mtls-native"/,
    );
    await expect(carriers.factory('udp')).rejects.toMatchObject({ code: 'SWY_ERR_CARRIER_NOT_FOUND' });
  });

  it('loads a built-in carrier on first use; one that needs the engine gives every workload one factory', async () => {
    const native = defineCarrier({
      name: 'mtls-native',
      apiVersion: CARRIER_API_VERSION,
      description: 'native',
      needsEngine: true,
      create: () => factory('mtls-native'),
    });
    const mtls = defineCarrier({
      name: 'mtls',
      apiVersion: CARRIER_API_VERSION,
      description: 'js',
      create: () => factory('mtls'),
    });
    const { carriers, imported } = registry({
      [BUILTIN_CARRIERS['mtls-native'].specifier]: { default: native },
      [BUILTIN_CARRIERS.mtls.specifier]: { carrier: mtls },
    });
    expect(await carriers.factory('mtls-native')).toBe(await carriers.factory('mtls-native'));
    expect(await carriers.factory('mtls')).not.toBe(await carriers.factory('mtls'));
    expect(imported).toEqual([BUILTIN_CARRIERS['mtls-native'].specifier, BUILTIN_CARRIERS.mtls.specifier]);
  });

  it('says why a carrier cannot run: a missing module, or the carrier’s own reason; and refuses to make it', async () => {
    const broken = defineCarrier({
      name: 'mtls-native',
      apiVersion: CARRIER_API_VERSION,
      description: 'native',
      unavailable: () => 'no engine build here',
      create: () => factory('mtls-native'),
    });
    const missing = registry();
    expect(await missing.carriers.unavailable('mtls-native')).toMatchObject({ missing: true });
    const present = registry({ [BUILTIN_CARRIERS['mtls-native'].specifier]: { default: broken } });
    expect(await present.carriers.unavailable('mtls-native')).toEqual({
      missing: false,
      reason: 'no engine build here',
    });
    await expect(present.carriers.factory('mtls-native')).rejects.toMatchObject({
      code: 'SWY_ERR_UNSUPPORTED_PLATFORM',
      message: 'carrier mtls-native cannot run here: no engine build here',
    });
    expect(await present.carriers.unavailable('mtls')).toMatchObject({ missing: true });
  });
});
