import { expect } from 'vitest';
import type { AttackLab, Footprint, LegitTally } from './attack-lab.js';

/** One attack's line in the summary the suites print: what the legitimate peer got, and the proxy's footprint. */
export interface AttackRow {
  attack: string;
  legit: string;
  liveMb: string;
  rssMb: string;
  fds: string;
}

/**
 * Holds an attack's aftermath to the bar every attack must clear: the legitimate peer opened new
 * connections during it and every one of them succeeded, and the proxy's descriptors and live
 * memory came back within 10 % of the baseline. Adds the attack's row to `rows`.
 */
export function holdTo(
  lab: AttackLab,
  rows: AttackRow[],
  attack: string,
  outcome: { legit: LegitTally; after: Footprint },
): void {
  const { legit, after } = outcome;
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  rows.push({
    attack,
    legit: `${legit.ok}/${legit.tried}`,
    liveMb: `${mb(lab.baseline.liveKb)} → ${mb(after.liveKb)}`,
    rssMb: `${mb(lab.baseline.rssKb)} → ${mb(after.rssKb)}`,
    fds: `${lab.baseline.fds} → ${after.fds}`,
  });
  expect(legit.tried, 'the legitimate peer tried during the attack').toBeGreaterThan(0);
  expect(legit.errors, 'what failed for the legitimate peer').toEqual({});
  expect(legit.ok).toBe(legit.tried);
  expect(after.fds, 'descriptors after the attack').toBeLessThanOrEqual(lab.baseline.fds * 1.1);
  expect(after.liveKb, 'live memory after the attack (kB)').toBeLessThanOrEqual(lab.baseline.liveKb * 1.1);
  // Resident memory is the allocator's high-water mark: after a first wave it still rises a little
  // and levels off (see docs/security.md). Half again the baseline would be a leak.
  expect(after.rssKb, 'resident memory after the attack (kB)').toBeLessThanOrEqual(lab.baseline.rssKb * 1.5);
}

/** Prints the rows as a table (the test log is where CI keeps it). */
export function printRows(server: string, rows: AttackRow[]): void {
  if (rows.length === 0) return;
  const lines = rows.map((r) => `| ${r.attack} | ${r.legit} | ${r.liveMb} | ${r.rssMb} | ${r.fds} |`);
  console.log(
    [
      `${server} under attack`,
      '| attack | legitimate peer ok | live MB | RSS MB | descriptors |',
      '|---|---|---|---|---|',
      ...lines,
    ].join('\n'),
  );
}

/** The value of one Prometheus sample whose labels include every `label="value"` given, or 0. */
export function sample(metrics: string, name: string, ...labels: string[]): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (labels.every((l) => line.includes(l))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
