import { describe, expect, it } from 'vitest';
import { svgChart } from './chart.js';
import { kbPerConnection, rssAt } from './idle-memory.js';
import { markdownReport, terminalTable } from './report.js';
import type { ScenarioResult } from './scenario-result.js';
import { checkTargets } from './targets.js';

const row = (scenario: string, over: Partial<ScenarioResult>): ScenarioResult => ({
  scenario,
  description: `${scenario} path`,
  status: 'ok',
  throughput1Gbps: 10,
  throughput8Gbps: 12,
  rttP50Us: 20,
  rttP99Us: 40,
  addedRttP50Us: 10,
  connectionsPerSecond: 1000,
  cpuMsPerConnection: 1.5,
  cpuSecondsPerGB: 1,
  idle: [],
  ...over,
});

const results = [
  row('direct', { throughput1Gbps: 40, addedRttP50Us: 0, cpuSecondsPerGB: Number.NaN }),
  row('relay-splice', { throughput1Gbps: 22 }),
  row('haproxy-relay', { throughput1Gbps: 20 }),
  row('mtls-native', {
    throughput1Gbps: 12,
    cpuSecondsPerGB: 0.9,
    addedRttP50Us: 25,
    idle: [
      { connections: 1000, rssMb: 60 },
      { connections: 9000, rssMb: 140 },
    ],
  }),
  row('hbone', { connectionsPerSecond: 4000 }),
  row('hbone-native', {
    throughput1Gbps: 16,
    cpuSecondsPerGB: 0.7,
    addedRttP50Us: 20,
    connectionsPerSecond: 5000,
  }),
  row('haproxy-mtls', { throughput1Gbps: 13, cpuSecondsPerGB: 0.8, addedRttP50Us: 19 }),
  row('stunnel-mtls', { status: 'skipped', note: 'stunnel is not installed' }),
];

describe('report', () => {
  it('checks each target as a ratio from the same run, and says which are behind', () => {
    expect(checkTargets(results).map((t) => [t.value, t.met])).toEqual([
      ['0.92×', false],
      ['1.13×', false],
      ['1.32×', false],
      ['1.00×', true],
      ['1.10×', true],
      ['1.00×', true],
      ['4.00×', false],
      ['1.23×', true],
      ['0.87×', true],
      ['1.05×', false],
      ['5.00×', true],
      ['140 MB', true],
      ['not measured', undefined],
    ]);
  });

  it('derives KB per idle connection from the slope, and extrapolates when 9,000 was not measured', () => {
    const idle = [
      { connections: 250, rssMb: 50 },
      { connections: 1000, rssMb: 65 },
    ];
    expect(kbPerConnection(idle)).toBeCloseTo(20.48, 2);
    expect(rssAt(idle, 9000)).toEqual({ mb: 225, measured: false });
    const idleTarget = checkTargets([row('mtls-native', { idle })]).find((t) =>
      t.target.startsWith('mtls-native RSS'),
    );
    expect(idleTarget?.value).toBe('225 MB (extrapolated from the slope)');
  });

  it('prints a table with ratios to direct, KB per connection, and skipped rows with their reason', () => {
    const table = terminalTable(results);
    expect(table).toMatch(/^mtls-native\s+12\.0\s+0\.30\s+12\.0/m);
    expect(table).toMatch(/^stunnel-mtls\s+skipped: stunnel is not installed$/m);
    expect(table).toMatch(/60@1k 140@9k\s+10\.2/);
  });

  it('writes Markdown with the targets, and an SVG with four panels and the targets marked', () => {
    const machine = {
      date: '2026-12-07T05:00:00.000Z',
      cores: 2,
      cpu: 'x',
      node: 'v24',
      openssl: '3',
      tls: 'TLSv1.3',
      load: 'iperf3',
      mode: 'quick' as const,
    };
    const md = markdownReport(machine, results, 'chart.svg');
    expect(md).toContain('differences of ~20% are noise');
    expect(md).toContain(
      '`idle MB` resident MB of the largest proxy while holding N idle connections (`180@1k`: 180 MB at 1,000)',
    );
    expect(md).toContain(
      '| mtls-native throughput (1 stream) ≥ 1.2× haproxy-mtls | 0.92× | **no — Switchyard is behind** |',
    );
    const svg = svgChart(results, machine);
    for (const title of [
      'Throughput',
      'CPU seconds per GB',
      'Round trip added',
      'Resident MB at 9,000 idle connections',
    ])
      expect(svg).toContain(title);
    // What it is, when and where: a picture pasted alone still says so.
    expect(svg).toContain(
      'Switchyard bench · quick run: one short run of each, so differences of ~20% are noise',
    );
    expect(svg).toContain('2026-12-07 05:00 UTC · 2 cores, x · Node v24');
    for (const label of [
      'direct (no proxy, the reference)',
      'peers: haproxy, stunnel',
      'Switchyard, native engine',
      'Switchyard, JavaScript',
    ])
      expect(svg).toContain(`>${label}</text>`);
    // A row with no bar is named with the reason, never dropped silently.
    expect(svg).toContain('not shown: stunnel-mtls (skipped)');
    // throughput and round trip: mtls-native, relay-splice and hbone-native; CPU: mtls-native and
    // hbone-native; idle memory: mtls-native (hbone-native has no idle figure here)
    expect(svg.match(/class="target"/g)).toHaveLength(9);
    expect(svg).toContain('>haproxy-mtls</text>');
  });
});
