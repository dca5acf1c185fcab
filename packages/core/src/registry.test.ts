import { describe, expect, it } from 'vitest';
import { defineDriver } from './driver-definition.js';
import {
  DriverDuplicateError,
  DriverIncompatibleError,
  DriverLoadError,
  DriverNotFoundError,
} from './errors.js';
import { memoryDriver } from './memory/memory-driver.js';
import { DriverRegistry } from './registry.js';
import { DRIVER_API_VERSION } from './version.js';

const acme = defineDriver({
  name: 'acme',
  apiVersion: DRIVER_API_VERSION,
  description: 'test driver',
  create: () => ({ ...memoryDriver(), name: 'acme' }),
});

function importing(modules: Record<string, unknown>) {
  const imported: string[] = [];
  const importModule = async (specifier: string) => {
    imported.push(specifier);
    if (!(specifier in modules))
      throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    return modules[specifier];
  };
  return { importModule, imported };
}

describe('DriverRegistry', () => {
  it('imports a built-in driver only when it is first used', async () => {
    const { importModule, imported } = importing({ 'mem-module': { default: { ...acme, name: 'memory' } } });
    const registry = new DriverRegistry({ builtins: { memory: 'mem-module' }, importModule });
    expect(registry.names()).toEqual(['memory']);
    expect(imported).toEqual([]);
    const driver = await registry.create('memory');
    expect(driver.name).toBe('acme');
    expect(imported).toEqual(['mem-module']);
    await registry.create('memory');
    expect(imported).toEqual(['mem-module']);
  });

  it('loads the real built-in memory driver by default', async () => {
    const registry = new DriverRegistry();
    const driver = await registry.create('memory');
    expect(driver.name).toBe('memory');
    expect(registry.source('memory')).toEqual({
      name: 'memory',
      origin: 'builtin',
      specifier: '@switchyard/core/memory',
    });
  });

  it('loads third-party drivers from a module: default, `driver` and `drivers` exports', async () => {
    const other = { ...acme, name: 'other' };
    const { importModule } = importing({ pkg: { default: acme, driver: acme, drivers: [other] } });
    const registry = new DriverRegistry({ builtins: {}, importModule });
    const loaded = await registry.load('pkg');
    expect(loaded.map((d) => d.name)).toEqual(['acme', 'other']);
    expect(registry.names()).toEqual(['acme', 'other']);
    expect(registry.source('acme')).toEqual({ name: 'acme', origin: 'module', specifier: 'pkg' });
  });

  it('treats loading the same module twice as one registration', async () => {
    const { importModule } = importing({ pkg: { default: acme } });
    const registry = new DriverRegistry({ builtins: {}, importModule });
    await registry.load('pkg');
    await registry.load('pkg');
    expect(registry.names()).toEqual(['acme']);
  });

  it('refuses a second driver with a taken name, also a built-in one', async () => {
    const registry = new DriverRegistry();
    registry.register(acme);
    const copy = { ...acme };
    expect(() => registry.register(copy)).toThrow(DriverDuplicateError);
    expect(() => registry.register(copy)).toThrow(/already registered.*rename the new driver/);
    const fakeMemory = { ...acme, name: 'memory' };
    const error = (() => {
      try {
        registry.register(fakeMemory);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DriverDuplicateError);
    expect((error as DriverDuplicateError).code).toBe('SWY_ERR_DRIVER_DUPLICATE');
    expect((error as Error).message).toMatch(/built in/);
  });

  it('refuses a driver written for another driver API version', () => {
    const registry = new DriverRegistry();
    const future = { ...acme, apiVersion: DRIVER_API_VERSION + 1 };
    expect(() => registry.register(future)).toThrow(DriverIncompatibleError);
    expect(() => registry.register(future)).toThrow(`written for driver API v${DRIVER_API_VERSION + 1}`);
  });

  it('explains unknown names, missing packages, bad exports and bad names', async () => {
    const { importModule } = importing({ empty: { something: 1 } });
    const registry = new DriverRegistry({ builtins: { tproxy: '@switchyard/driver-tproxy' }, importModule });
    await expect(registry.create('nope')).rejects.toThrow(DriverNotFoundError);
    await expect(registry.create('nope')).rejects.toThrow(/known drivers are "tproxy"/);
    await expect(registry.create('tproxy')).rejects.toThrow(DriverLoadError);
    await expect(registry.create('tproxy')).rejects.toThrow(/pnpm add @switchyard\/driver-tproxy/);
    await expect(registry.load('empty')).rejects.toThrow(/exports no driver definition/);
    expect(() => registry.register({ ...acme, name: 'Bad Name' })).toThrow(/not usable/);
    expect(() => registry.register({ name: 'x' })).toThrow(/not a driver definition/);
  });
});
