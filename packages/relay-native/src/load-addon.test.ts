import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADDON_BUILD_ENV } from './defaults.js';

const before = process.env[ADDON_BUILD_ENV];
afterEach(() => {
  if (before === undefined) delete process.env[ADDON_BUILD_ENV];
  else process.env[ADDON_BUILD_ENV] = before;
});

/** A fresh copy of the loader: the addon is loaded once per module instance. */
async function freshLoader(build: string | undefined) {
  if (build === undefined) delete process.env[ADDON_BUILD_ENV];
  else process.env[ADDON_BUILD_ENV] = build;
  vi.resetModules();
  return import('./load-addon.js');
}

describe('loading the addon', () => {
  it('says the engine can run when the addon is built', async () => {
    const { nativeEngineUnavailable } = await freshLoader(before);
    expect(nativeEngineUnavailable()).toBeUndefined();
  });

  it('refuses a build name it does not know, naming the variable and the choices', async () => {
    const { nativeEngineUnavailable, loadRelayAddon } = await freshLoader('debug');
    expect(nativeEngineUnavailable()).toMatch(
      /SWITCHYARD_RELAY_NATIVE_BUILD="debug" names no build .* "release" \(the default\) or "asan"/,
    );
    expect(() => loadRelayAddon()).toThrow(expect.objectContaining({ code: 'SWY_ERR_UNSUPPORTED_PLATFORM' }));
  });
});
