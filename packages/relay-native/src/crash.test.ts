import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const addonPath = fileURLToPath(new URL('../build/Release/switchyard_relay.node', import.meta.url));

describe('a crash on an engine thread', () => {
  it('stops the process with a reason on stderr, never silently', () => {
    const script = `
      const addon = require(${JSON.stringify(addonPath)});
      const engine = addon.createEngine({ threads: 2 }, () => {});
      addon.setRef(engine, true);
      addon.crashForTesting(engine);
      setTimeout(() => { console.log('still alive'); process.exit(0); }, 5000);
    `;
    const env = { ...process.env };
    delete env.LD_PRELOAD; // the production build, whatever build the suite runs
    const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 20_000 });
    expect(child.stdout).not.toContain('still alive');
    expect(child.stderr).toMatch(/switchyard relay-native: engine thread 0 crashed with Segmentation fault/);
    expect(child.signal).toBe('SIGSEGV');
  });
});
