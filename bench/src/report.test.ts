import { describe, expect, it } from 'vitest';
import { checkTargets, markdownReport, type ScenarioResult, svgChart, terminalTable } from './report.js';

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
  cpuSecondsPerGB: 1,
  idle: [],
  ...over,
});

const results = [
  row('direct', { throughput1Gbps: 40, addedRttP50Us: 0, cpuSecondsPerGB: Number.NaN }),
  row('relay', { throughput1Gbps: 18 }),
  row('haproxy-relay', { throughput1Gbps: 20 }),
  row('mtls', {
    throughput1Gbps: 12,
    cpuSecondsPerGB: 0.9,
    addedRttP50Us: 25,
    idle: [{ connections: 9000, rssMb: 310 }],
  }),
  row('haproxy-mtls', { throughput1Gbps: 13, cpuSecondsPerGB: 0.8, addedRttP50Us: 19 }),
  row('stunnel-mtls', { status: 'skipped', note: 'stunnel is not installed' }),
];

describe('report', () => {
  it('checks each target as a ratio from the same run, and says which are behind', () => {
    const targets = checkTargets(results);
    expect(targets.map((t) => [t.value, t.met])).toEqual([
      ['0.92', false],
      ['1.13', false],
      ['1.32', false],
      ['0.90', true],
      ['310', true],
    ]);
  });

  it('prints a table with ratios to direct and the skipped rows with their reason', () => {
    const table = terminalTable(results);
    expect(table).toMatch(/^mtls\s+12\.0\s+0\.30\s+12\.0/m);
    expect(table).toMatch(/^stunnel-mtls\s+skipped: stunnel is not installed$/m);
    expect(table).toContain('310@9k');
  });

  it('writes Markdown with the targets and an SVG with one bar per measured scenario', () => {
    const md = markdownReport(
      {
        date: 'd',
        cores: 2,
        cpu: 'x',
        node: 'v24',
        openssl: '3',
        tls: 'TLSv1.3',
        load: 'iperf3',
        mode: 'quick',
      },
      results,
      'chart.svg',
    );
    expect(md).toContain(
      '| mtls throughput ≥ 1.0× haproxy mTLS pair (1 stream) | 0.92 | **no — Switchyard is behind** |',
    );
    expect(md).toContain('![throughput](chart.svg)');
    const svg = svgChart(results);
    expect(svg.match(/<rect /g)).toHaveLength(5);
    expect(svg).toContain('>haproxy-mtls</text>');
  });
});
