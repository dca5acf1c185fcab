import { describe, expect, it } from 'vitest';
import { type NormalizedPolicy, normalizePolicy } from '../index.js';
import { describeDriverCompliance } from '../testing/index.js';
import { memoryDriver } from './memory-driver.js';

describeDriverCompliance({
  title: 'memory',
  create: () => memoryDriver(),
  target: () => ({ kind: 'netns', name: 'compliance' }),
});

describe('memoryDriver', () => {
  it('shares state between drivers given the same store, keyed by target', async () => {
    const store = new Map<string, Map<string, NormalizedPolicy>>();
    const one = memoryDriver({ store });
    const two = memoryDriver({ store });
    await one.apply({ kind: 'netns', name: 'a' }, { inbound: {} });
    expect(await two.list({ kind: 'netns', name: 'a' })).toEqual([
      { id: 'default', policy: normalizePolicy({ inbound: {} }) },
    ]);
    expect(await two.list({ kind: 'netns', name: 'b' })).toEqual([]);
  });

  it('hands out copies, so callers cannot change what it holds', async () => {
    const driver = memoryDriver();
    const target = { kind: 'netns', name: 'a' } as const;
    await driver.apply(target, { inbound: {} });
    const [listed] = await driver.list(target);
    if (listed?.policy.inbound) listed.policy.inbound.port = 1;
    expect((await driver.list(target))[0]?.policy.inbound?.port).toBe(15006);
  });
});
