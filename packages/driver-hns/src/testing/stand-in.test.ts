// The stand-in keeps its state in the loaded library: a test that seeds it and drops the hooks
// must still find its endpoints after a garbage collection (koffi unloads unreferenced libraries).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, expect, it } from 'vitest';
import { loadHcn } from '../hcn-binding.js';
import { buildStandIn, standInHooks, standInUnavailable } from './stand-in.js';

const ENDPOINT = '5d1c7e0a-3f2b-4c8d-9e6f-7a8b9c0d1e2f';
const reason = standInUnavailable();

describeRequiring(reason, 'the HNS stand-in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-standin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a seeded state after the hooks are dropped and memory is collected', async () => {
    if (reason) throw new Error(reason);
    const library = join(dir, 'libcomputenetwork-standin.so');
    copyFileSync(buildStandIn(), library);
    standInHooks(library).seed({
      Version: { Major: 15, Minor: 1 },
      Endpoints: [{ ID: ENDPOINT, Name: 'seeded', Policies: [] }],
      Namespaces: [],
    });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10)); // finalizers run after the collection
    }
    const hcn = await loadHcn({ computenetwork: library, vmcompute: library, ole32: library });
    expect((await hcn.queryEndpoint(ENDPOINT, '{}')).Name).toBe('seeded');
  });
});
