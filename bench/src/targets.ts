import { IDLE_TARGET_CONNECTIONS, rssAt } from './idle-memory.js';
import type { ScenarioResult } from './scenario-result.js';
import { ratio } from './stats.js';

/** A target of issue 14, evaluated on this run's ratios. */
export interface TargetCheck {
  target: string;
  value: string;
  met: boolean | undefined;
}

type Metric = 'throughput1Gbps' | 'cpuSecondsPerGB' | 'addedRttP50Us' | 'connectionsPerSecond';

/** A ratio target: `scenario`'s `metric` over `peer`'s, at most or at least `limit`. */
interface RatioTarget {
  scenario: string;
  peer: string;
  metric: Metric;
  limit: number;
  aim?: number;
  atMost: boolean;
  label: string;
}

/** The bench's targets, as ratios against haproxy in the same run (issues 14 and 22). */
export const RATIO_TARGETS: readonly RatioTarget[] = [
  {
    scenario: 'mtls-native',
    peer: 'haproxy-mtls',
    metric: 'throughput1Gbps',
    limit: 1.2,
    atMost: false,
    label: 'throughput (1 stream)',
  },
  {
    scenario: 'mtls-native',
    peer: 'haproxy-mtls',
    metric: 'cpuSecondsPerGB',
    limit: 0.9,
    atMost: true,
    label: 'CPU s/GB',
  },
  {
    scenario: 'mtls-native',
    peer: 'haproxy-mtls',
    metric: 'addedRttP50Us',
    limit: 1.0,
    atMost: true,
    label: 'added round trip',
  },
  {
    scenario: 'mtls-native',
    peer: 'haproxy-mtls',
    metric: 'connectionsPerSecond',
    limit: 1.0,
    atMost: false,
    label: 'new connections/s',
  },
  {
    scenario: 'relay-splice',
    peer: 'haproxy-relay',
    metric: 'throughput1Gbps',
    limit: 1.0,
    atMost: false,
    label: 'throughput (1 stream)',
  },
  {
    scenario: 'relay-splice',
    peer: 'haproxy-relay',
    metric: 'addedRttP50Us',
    limit: 1.0,
    atMost: true,
    label: 'added round trip',
  },
  {
    scenario: 'hbone',
    peer: 'haproxy-mtls',
    metric: 'connectionsPerSecond',
    limit: 5.0,
    atMost: false,
    label: 'new connections/s (pooled)',
  },
  // issue 22: HBONE on the native engine
  {
    scenario: 'hbone-native',
    peer: 'haproxy-mtls',
    metric: 'throughput1Gbps',
    limit: 1.2,
    atMost: false,
    label: 'throughput (1 stream)',
  },
  {
    scenario: 'hbone-native',
    peer: 'haproxy-mtls',
    metric: 'cpuSecondsPerGB',
    limit: 0.9,
    atMost: true,
    label: 'CPU s/GB',
  },
  {
    scenario: 'hbone-native',
    peer: 'haproxy-mtls',
    metric: 'addedRttP50Us',
    limit: 1.0,
    atMost: true,
    label: 'added round trip',
  },
  {
    scenario: 'hbone-native',
    peer: 'haproxy-mtls',
    metric: 'connectionsPerSecond',
    limit: 5.0,
    atMost: false,
    label: 'new tunnels/s (pooled)',
  },
];

/** Idle memory targets (issue 22): at most `maxMb` resident at {@link IDLE_TARGET_CONNECTIONS} idle connections. */
export const IDLE_TARGETS: readonly { scenario: string; maxMb: number }[] = [
  { scenario: 'mtls-native', maxMb: 300 },
  { scenario: 'hbone-native', maxMb: 200 },
];

const ok = (results: ScenarioResult[], name: string) =>
  results.find((r) => r.scenario === name && r.status === 'ok');

function checkRatio(results: ScenarioResult[], t: RatioTarget): TargetCheck {
  const value = ratio(
    ok(results, t.scenario)?.[t.metric] ?? Number.NaN,
    ok(results, t.peer)?.[t.metric] ?? Number.NaN,
  );
  const aim = t.aim === undefined ? '' : ` (aim ${t.aim.toFixed(1)}×)`;
  return {
    target: `${t.scenario} ${t.label} ${t.atMost ? '≤' : '≥'} ${t.limit.toFixed(1)}× ${t.peer}${aim}`,
    value: Number.isFinite(value) ? `${value.toFixed(2)}×` : 'not measured',
    met: Number.isFinite(value) ? (t.atMost ? value <= t.limit : value >= t.limit) : undefined,
  };
}

function checkIdle(results: ScenarioResult[], t: (typeof IDLE_TARGETS)[number]): TargetCheck {
  const at = rssAt(ok(results, t.scenario)?.idle ?? [], IDLE_TARGET_CONNECTIONS);
  const shown = Number.isFinite(at.mb)
    ? `${at.mb.toFixed(0)} MB${at.measured ? '' : ' (extrapolated from the slope)'}`
    : 'not measured';
  return {
    target: `${t.scenario} RSS with ${IDLE_TARGET_CONNECTIONS} idle connections ≤ ${t.maxMb} MB`,
    value: shown,
    met: Number.isFinite(at.mb) ? at.mb <= t.maxMb : undefined,
  };
}

/** Every target, checked on this run. */
export function checkTargets(results: ScenarioResult[]): TargetCheck[] {
  return [
    ...RATIO_TARGETS.map((t) => checkRatio(results, t)),
    ...IDLE_TARGETS.map((t) => checkIdle(results, t)),
  ];
}

/** Where a chart marks the target for one scenario's bar, in the metric's own unit, if it has one. */
export function targetMark(
  results: ScenarioResult[],
  scenario: string,
  metric: Metric | 'idleMb',
): number | undefined {
  if (metric === 'idleMb') return IDLE_TARGETS.find((t) => t.scenario === scenario)?.maxMb;
  const t = RATIO_TARGETS.find((x) => x.scenario === scenario && x.metric === metric);
  const peer = t && ok(results, t.peer)?.[metric];
  return t && peer !== undefined && Number.isFinite(peer) ? peer * t.limit : undefined;
}
