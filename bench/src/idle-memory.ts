import type { ScenarioResult } from './scenario-result.js';

/** The idle count the memory target is stated at. */
export const IDLE_TARGET_CONNECTIONS = 9000;

/** KB of resident memory per idle connection: the slope between the smallest and largest count. */
export function kbPerConnection(idle: ScenarioResult['idle']): number {
  if (idle.length < 2) return Number.NaN;
  const first = idle[0] as { connections: number; rssMb: number };
  const last = idle.at(-1) as { connections: number; rssMb: number };
  const span = last.connections - first.connections;
  return span > 0 ? ((last.rssMb - first.rssMb) * 1024) / span : Number.NaN;
}

/**
 * Resident MB at `connections` idle connections: measured when the run held that many, else
 * extrapolated along the slope from the largest count measured.
 */
export function rssAt(idle: ScenarioResult['idle'], connections: number): { mb: number; measured: boolean } {
  const exact = idle.find((i) => i.connections === connections);
  if (exact) return { mb: exact.rssMb, measured: true };
  const last = idle.at(-1);
  const slope = kbPerConnection(idle);
  if (!last || !Number.isFinite(slope)) return { mb: Number.NaN, measured: false };
  return { mb: last.rssMb + (slope * (connections - last.connections)) / 1024, measured: false };
}
