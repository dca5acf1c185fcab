import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverRegistry, normalizePolicy } from '@switchyard/core';
import { describeDriverCompliance } from '@switchyard/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesDriver } from './files-driver.js';
import plugin from './index.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'swy-files-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describeDriverCompliance({
  title: 'files (example plugin)',
  create: () => filesDriver({ directory }),
  target: () => ({ kind: 'netns', name: 'compliance' }),
});

describe('files driver', () => {
  it('registers through the registry as a third-party module', async () => {
    const registry = new DriverRegistry({ importModule: async () => ({ default: plugin }) });
    await registry.load('switchyard-driver-files');
    expect(registry.names()).toEqual(['files', 'hns', 'memory', 'tproxy']);
    const driver = await registry.create('files', { directory });
    expect(driver.name).toBe('files');
  });

  it('keeps its state on disk, where a second instance reads it back', async () => {
    const target = { kind: 'netns', name: 'on-disk' } as const;
    await filesDriver({ directory }).apply(target, { inbound: {} });
    const file = join(directory, encodeURIComponent('netns:on-disk'), 'default.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(normalizePolicy({ inbound: {} }));
    expect(await filesDriver({ directory }).remove(target)).toBe(1);
  });

  it('probes a place where the directory cannot be made as unusable, with a fix', async () => {
    const probe = await filesDriver({ directory: '/etc/hostname/switchyard' }).probe();
    expect(probe.usable).toBe(false);
    expect(probe.problems[0]?.fix).toMatch(/SWITCHYARD_FILES_DIR/);
  });
});
