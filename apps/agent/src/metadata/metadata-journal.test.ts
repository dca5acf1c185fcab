import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { createLab, describePrivileged, type Lab } from '@switchyard/driver-tproxy/testing';
import { afterEach, expect, it } from 'vitest';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { validateConfig } from '../config/validate-config.js';
import { createAgentMetrics } from '../ops/agent-metrics.js';
import { AppliedJournal } from '../reconcile/applied-journal.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { freePort } from '../testing/agent-node-lab.js';
import { metadataContainer as container, listedBy } from '../testing/listed-containers.js';
import { uninstall } from '../uninstall.js';
import { metadataPolicy } from './metadata-policy.js';
import { MetadataProxy } from './metadata-proxy.js';

// Metadata clients' captures are capture units of the agent's reconciler, recorded in its journal
// like workloads' captures, so `--uninstall` removes both in one pass: real nftables in
// namespaces, the tproxy driver, the real MetadataProxy and Reconciler. Only Docker's container
// list is stood in for.

describePrivileged("metadata captures as the agent reconciler's units (namespaces, nftables)", () => {
  let lab: Lab | undefined;
  let stateDir: string | undefined;
  afterEach(() => {
    lab?.destroy();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const tables = (ns: string) => (lab as Lab).run(ns, 'nft', 'list', 'tables');

  it('journals each client capture, removes a stale one at its first pass, and --uninstall removes the rest', async () => {
    lab = createLab();
    stateDir = mkdtempSync(join(tmpdir(), 'swy-metadata-journal-'));
    const config = validateConfig(
      { identity: { caDir: '/ca' }, stateDir, metadataProxy: { port: await freePort() } },
      '/etc',
    );
    const driver = tproxyDriver();
    const journal = new AppliedJournal(stateDir);
    await journal.load();
    const plane = new DataPlane({
      socketOps: driver.socketOps,
      identityFallback: 'refuse',
      logger: silentLogger,
    });
    const reconciler = new Reconciler({
      settings: config,
      driver,
      plane,
      journal: new AppliedJournal(stateDir),
      logger: silentLogger,
      metrics: createAgentMetrics(plane.metrics.registry),
    });
    // A client captured by an earlier agent whose container is gone from Docker's list.
    const stale = { kind: 'netns' as const, path: `/run/netns/${lab.b.name}` };
    const policyId = AGENT_DEFAULTS.metadataProxy.policyId;
    await driver.apply(stale, metadataPolicy(config.metadataProxy!, config.bypass));
    await journal.record('metadata:gone-id', { target: stale, driver: driver.name, policyId });
    expect(tables(lab.b.name)).toMatch(/switchyard/);

    const proxy = await MetadataProxy.start({
      config: config.metadataProxy!,
      bypass: config.bypass,
      driver,
      logger: silentLogger,
      retry: { initialMs: 50, maxMs: 200 },
      resyncMs: 60_000,
      plane,
      reconciler,
      watcher: listedBy([
        container('client', 'client', ['10.0.0.9'], lab.a.name),
        container('proxy', 'proxy', ['10.0.0.8']),
      ]),
    });
    try {
      expect(proxy.status().clients.map((c) => c.phase)).toEqual(['captured']);
      await journal.load();
      expect(journal.entries()).toEqual([
        [
          'metadata:client-id',
          { target: { kind: 'netns', path: `/run/netns/${lab.a.name}` }, driver: 'tproxy', policyId },
        ],
      ]);
      expect(tables(lab.a.name)).toMatch(/switchyard/);
      expect(tables(lab.b.name)).not.toMatch(/switchyard/);
    } finally {
      await proxy.close();
      await reconciler.stop();
      await plane.close(0);
    }
    // Stopping keeps the capture (fail closed); --uninstall removes it from the journal's record.
    expect(tables(lab.a.name)).toMatch(/switchyard/);
    const result = await uninstall(config, driver);
    expect(result.removed).toEqual([`netns:/run/netns/${lab.a.name}`]);
    expect(tables(lab.a.name)).not.toMatch(/switchyard/);
  });
});
