import { formatTarget, type RedirectionDriver } from '@switchyard/core';
import { silentLogger } from '@switchyard/dataplane';
import { loadDriver } from '../agent.js';
import type { AgentConfig } from '../config/agent-config.js';
import { plan } from '../plan/plan.js';
import { createSource } from '../sources/create-source.js';
import { networkResolver } from '../sources/resolve-network.js';
import type { Workload } from '../sources/workload.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/** How long `plan` waits for the source's first snapshot (an API that does not answer), ms. */
const FIRST_SNAPSHOT_MS = 30_000;

/** One workload in {@link PlanReport}: what the agent would hold for it, or why it cannot. */
export interface PlannedWorkload {
  id: string;
  carrier?: string;
  spiffeId?: string;
  target?: string;
  addresses?: string[];
  /** Whether the target already holds exactly this (a running agent applied it). */
  changed?: boolean;
  /** The driver's script (nft on Linux, HNS requests on Windows), as `apply` would write it. */
  artifact?: { format: string; content: string };
  error?: { code: string; message: string };
}

/** What `switchyard-agent plan --json` prints. */
export interface PlanReport {
  node: string;
  source: string;
  driver: string;
  workloads: PlannedWorkload[];
}

/**
 * `switchyard-agent plan`: what the agent would apply on this node, from its source's current
 * workloads, without applying anything (the driver's dry run; like `redirect plan`, for every
 * workload). Exit 1 when a workload could not be planned.
 */
export async function planCommand(
  config: AgentConfig,
  options: { json?: boolean },
  io: AgentIo,
): Promise<number> {
  const driver = await loadDriver(config.driver);
  const workloads = await firstSnapshot(config);
  const resolver = networkResolver(config.criEndpoint);
  try {
    const planned: PlannedWorkload[] = [];
    for (const w of workloads) planned.push(await planOne(w, config, driver, resolver));
    const report: PlanReport = {
      node: config.node,
      source: config.source.kind,
      driver: driver.name,
      workloads: planned,
    };
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report));
    return planned.some((p) => p.error) ? EXIT.failure : EXIT.ok;
  } finally {
    resolver.close();
  }
}

async function planOne(
  w: Workload,
  config: AgentConfig,
  driver: RedirectionDriver,
  resolver: ReturnType<typeof networkResolver>,
): Promise<PlannedWorkload> {
  try {
    const p = plan(w, await resolver.resolve(w), config);
    const result = await driver.apply(p.target, p.policy, { dryRun: true });
    return {
      id: p.id,
      carrier: p.carrier,
      spiffeId: p.identity.spiffeId,
      target: formatTarget(p.target),
      addresses: p.addresses,
      changed: result.changed,
      artifact: result.artifact,
    };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { id: w.id, error: { code: e.code ?? 'SWY_ERR_INTERNAL', message: e.message } };
  }
}

/** The source's workloads now: its first snapshot, then it is closed again. */
async function firstSnapshot(config: AgentConfig): Promise<readonly Workload[]> {
  const source = createSource(config, silentLogger);
  let first: readonly Workload[] | undefined;
  try {
    const started = source.start({
      snapshot: (workloads) => {
        first ??= workloads;
      },
      problem: () => undefined,
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`the ${source.kind} source gave no workloads within ${FIRST_SNAPSHOT_MS / 1000} s`),
          ),
        FIRST_SNAPSHOT_MS,
      );
    });
    await Promise.race([started, late]).finally(() => clearTimeout(timer));
    return first ?? [];
  } finally {
    await source.close();
  }
}

/** The human form: per workload its target and identity, then the script, or why not. */
export function formatPlan(r: PlanReport): string {
  const head = `node ${r.node} · source ${r.source} · driver ${r.driver} · ${r.workloads.length} workload${r.workloads.length === 1 ? '' : 's'} (nothing applied)\n`;
  const parts = r.workloads.map((w) =>
    w.error
      ? `# ${w.id}: cannot plan: ${w.error.code}: ${w.error.message}\n`
      : `# ${w.id} → ${w.target} (${w.carrier}, ${w.spiffeId})${w.changed ? '' : ': already in place'}\n${w.artifact?.content ?? ''}`,
  );
  return `${head}${parts.join('\n')}`;
}
