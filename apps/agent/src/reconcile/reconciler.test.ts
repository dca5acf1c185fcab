import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverRegistry, type RedirectionDriver, TargetNotFoundError } from '@switchyard/core';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { initCa } from '@switchyard/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';
import { identityProvider } from '../identity/identity-provider.js';
import { createAgentMetrics } from '../ops/agent-metrics.js';
import type { Workload } from '../sources/workload.js';
import { AppliedJournal } from './applied-journal.js';
import { Reconciler } from './reconciler.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-reconcile-'));
const missing = new Set<string>();
const workload = (name: string): Workload => ({
  id: `t/${name}`,
  name,
  namespace: 't',
  serviceAccount: name,
  network: { netns: name },
  ips: [],
  probePorts: [],
});

/** The memory driver, with socket ops that listen on loopback port 0 whatever the target (no root). */
async function memoryDriver(): Promise<RedirectionDriver> {
  const driver = await new DriverRegistry().create('memory');
  const ops = driver.socketOps;
  const socketOps = {
    ...ops,
    listen: (o: Parameters<typeof ops.listen>[0]) =>
      ops.listen({ ...o, target: undefined, port: 0, host: '127.0.0.1' }),
  };
  return Object.assign(Object.create(driver), {
    socketOps,
    list: driver.list,
    apply: driver.apply,
    remove: driver.remove,
    name: driver.name,
  });
}

function reconciler(driver: RedirectionDriver, stateDir: string) {
  const config = validateConfig(
    {
      identity: { caDir: join(dir, 'ca') },
      stateDir,
      retry: { initialMs: 20, maxMs: 40 },
      families: ['ipv4'],
    },
    dir,
  );
  const plane = new DataPlane({
    socketOps: driver.socketOps,
    identityFallback: 'trust-domain',
    logger: silentLogger,
  });
  const metrics = createAgentMetrics(plane.metrics.registry);
  const r = new Reconciler({
    settings: config,
    workloads: {
      config,
      resolver: {
        async resolve(w) {
          if (missing.has(w.name))
            throw new TargetNotFoundError(`the network namespace of ${w.id} does not exist`);
          return { target: { kind: 'netns', name: w.name }, addresses: [] };
        },
        close() {},
      },
      identities: identityProvider(config.identity, stateDir, silentLogger),
    },
    driver,
    plane,
    journal: new AppliedJournal(stateDir),
    logger: silentLogger,
    metrics,
  });
  return { r, plane, metrics };
}

const phases = (r: Reconciler) => Object.fromEntries(r.report().map((w) => [w.id, w.phase]));

describe('Reconciler (memory driver)', () => {
  beforeAll(() => initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('captures what it can, reports and retries what it cannot, keeps what is right, removes what is gone', async () => {
    const driver = await memoryDriver();
    const state = join(dir, 'state-1');
    const { r, plane, metrics } = reconciler(driver, state);
    missing.add('c');
    await r.snapshot([workload('a'), workload('b'), workload('c')], true);
    expect(phases(r)).toEqual({ 't/a': 'captured', 't/b': 'captured', 't/c': 'failed' });
    const failed = r.report().find((w) => w.id === 't/c');
    expect(failed?.error?.code).toBe('SWY_ERR_TARGET_NOT_FOUND');
    expect(failed?.nextRetry).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.report().find((w) => w.id === 't/c')?.attempts).toBeGreaterThan(1);

    missing.delete('c');
    await expect.poll(() => phases(r)['t/c']).toBe('captured');
    expect(await driver.list({ kind: 'netns', name: 'c' })).toHaveLength(1);

    await r.resync();
    expect((await metrics.actions.get()).values.find((v) => v.labels.action === 'kept')?.value).toBe(3);

    await r.snapshot([workload('a'), workload('c')]);
    expect(phases(r)).toEqual({ 't/a': 'captured', 't/c': 'captured' });
    expect(await driver.list({ kind: 'netns', name: 'b' })).toEqual([]);
    expect(
      plane
        .workloads()
        .map((w) => w.id)
        .sort(),
    ).toEqual(['t/a', 't/c']);
    await r.stop();
    await plane.close(0);
  });

  it('after a crash, a new reconciler removes the rules of workloads that went away meanwhile and keeps the rest', async () => {
    const driver = await memoryDriver();
    const state = join(dir, 'state-2');
    const first = reconciler(driver, state);
    await first.r.snapshot([workload('a'), workload('b')], true);
    // No stop: the process "died" with its rules in place.
    await first.plane.close(0);
    // A metadata client's capture in the same journal is metadata proxying's, never removed here.
    const client = { kind: 'netns' as const, name: 'm' };
    await driver.apply(client, {
      id: 'switchyard-metadata',
      outbound: { port: 15081, includeCidrs: ['169.254.169.254/32'] },
    });
    const journal = new AppliedJournal(state);
    await journal.load();
    await journal.record('metadata:m', { target: client, driver: 'memory', policyId: 'switchyard-metadata' });
    const second = reconciler(driver, state);
    await second.r.snapshot([workload('a')], true);
    expect(await driver.list({ kind: 'netns', name: 'b' })).toEqual([]);
    expect(await driver.list({ kind: 'netns', name: 'a' })).toHaveLength(1);
    expect(await driver.list(client)).toHaveLength(1);
    await journal.load();
    expect(journal.get('metadata:m')).toBeDefined();
    const actions = (await second.metrics.actions.get()).values;
    expect(actions.find((v) => v.labels.action === 'kept')?.value).toBe(1);
    expect(actions.find((v) => v.labels.action === 'removed')?.value).toBe(1);
    await second.r.stop();
    await second.plane.close(0);
  });

  it('a workload the runtime announces is captured before its source lists it, held until it does, and withdrawn by its own instance only', async () => {
    const driver = await memoryDriver();
    const { r, plane } = reconciler(driver, join(dir, 'state-3'));
    await r.snapshot([], true);
    const early = { ...workload('p'), network: { netns: 'p' } };
    expect(await r.admit(early, 'sandbox-1')).toMatchObject({ id: 't/p', phase: 'captured' });
    expect(await driver.list({ kind: 'netns', name: 'p' })).toHaveLength(1);
    // The source has not caught up: its snapshot without the workload does not remove it.
    await r.snapshot([]);
    expect(phases(r)).toEqual({ 't/p': 'captured' });
    // A DEL of an older instance leaves the newer one alone.
    await r.withdraw('t/p', 'sandbox-0');
    expect(phases(r)).toEqual({ 't/p': 'captured' });
    // The source lists it (same network): the announcement is done with; rules are kept, not reapplied.
    await r.snapshot([workload('p')]);
    await r.withdraw('t/p', 'sandbox-1');
    expect(phases(r)).toEqual({ 't/p': 'captured' });
    // Gone from the source now: removed.
    await r.snapshot([]);
    expect(phases(r)).toEqual({});
    expect(await driver.list({ kind: 'netns', name: 'p' })).toEqual([]);
    // Announced, then withdrawn before the source ever listed it: removed at once.
    await r.admit(workload('q'), 'sandbox-2');
    await r.withdraw('t/q', 'sandbox-2');
    expect(phases(r)).toEqual({});
    expect(plane.workloads()).toEqual([]);
    await r.stop();
    await plane.close(0);
  });

  it('an announced workload that cannot be captured is reported failed (the runtime refuses to start it)', async () => {
    const driver = await memoryDriver();
    const { r, plane } = reconciler(driver, join(dir, 'state-4'));
    await r.snapshot([], true);
    missing.add('x');
    const report = await r.admit(workload('x'), 'sandbox-x');
    missing.delete('x');
    expect(report).toMatchObject({ phase: 'failed', error: { code: 'SWY_ERR_TARGET_NOT_FOUND' } });
    await r.stop();
    await plane.close(0);
  });
});
