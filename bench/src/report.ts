import { fmt } from './stats.js';

/** One scenario's results; NaN where a measure was not taken. */
export interface ScenarioResult {
  scenario: string;
  description: string;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  throughput1Gbps: number;
  throughput8Gbps: number;
  rttP50Us: number;
  rttP99Us: number;
  /** Round trip p50 minus direct's, measured in the same run. */
  addedRttP50Us: number;
  connectionsPerSecond: number;
  /** CPU seconds of all the scenario's proxies per GB moved, during the throughput runs. */
  cpuSecondsPerGB: number;
  /** Idle connections held open, and the largest proxy's resident memory then, MB. */
  idle: { connections: number; rssMb: number }[];
}

/** What the header says about the machine and the TLS in use. */
export interface MachineInfo {
  date: string;
  cores: number;
  cpu: string;
  node: string;
  openssl: string;
  tls: string;
  load: string;
  mode: 'quick' | 'full';
}

/** A target of issue 6, evaluated on this run's ratios. */
export interface TargetCheck {
  target: string;
  value: string;
  met: boolean | undefined;
}

const COLUMNS = [
  ['scenario', 16],
  ['Gbit/s 1', 9],
  ['×direct', 8],
  ['Gbit/s 8', 9],
  ['RTT p50 µs', 11],
  ['+µs', 7],
  ['p99 µs', 8],
  ['conn/s', 8],
  ['CPU s/GB', 9],
  ['idle MB', 12],
] as const;

/** The rows of the terminal and Markdown tables. */
export function tableRows(results: ScenarioResult[]): string[][] {
  const direct = results.find((r) => r.scenario === 'direct');
  return results.map((r) => {
    if (r.status !== 'ok') return [r.scenario, `${r.status}: ${r.note ?? ''}`];
    const idle = r.idle
      .map(
        (i) =>
          `${fmt(i.rssMb, 0)}@${i.connections >= 1000 ? `${Math.round(i.connections / 1000)}k` : i.connections}`,
      )
      .join(' ');
    return [
      r.scenario,
      fmt(r.throughput1Gbps),
      fmt(direct ? r.throughput1Gbps / direct.throughput1Gbps : Number.NaN, 2),
      fmt(r.throughput8Gbps),
      fmt(r.rttP50Us),
      fmt(r.addedRttP50Us),
      fmt(r.rttP99Us),
      fmt(r.connectionsPerSecond, 0),
      fmt(r.cpuSecondsPerGB, 2),
      idle || '–',
    ];
  });
}

/** The table as fixed-width text for the terminal. */
export function terminalTable(results: ScenarioResult[]): string {
  const head = COLUMNS.map(([name, width]) => name.padEnd(width)).join(' ');
  const lines = tableRows(results).map((row) =>
    row.length === 2
      ? `${(row[0] ?? '').padEnd(16)} ${row[1]}`
      : row.map((cell, i) => cell.padEnd(COLUMNS[i]?.[1] ?? 8)).join(' '),
  );
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

/** Issue 6's targets, as ratios measured in this run. */
export function checkTargets(results: ScenarioResult[]): TargetCheck[] {
  const get = (name: string) => results.find((r) => r.scenario === name && r.status === 'ok');
  const mtls = get('mtls');
  const haproxy = get('haproxy-mtls');
  const relay = get('relay');
  const haproxyRelay = get('haproxy-relay');
  const check = (target: string, value: number, ok: (v: number) => boolean, digits = 2): TargetCheck => ({
    target,
    value: Number.isFinite(value) ? value.toFixed(digits) : 'not measured',
    met: Number.isFinite(value) ? ok(value) : undefined,
  });
  const biggestIdle = mtls?.idle.at(-1);
  return [
    check(
      'mtls throughput ≥ 1.0× haproxy mTLS pair (1 stream)',
      (mtls?.throughput1Gbps ?? Number.NaN) / (haproxy?.throughput1Gbps ?? Number.NaN),
      (v) => v >= 1.0,
    ),
    check(
      'mtls CPU s/GB ≤ 1.1× haproxy mTLS pair',
      (mtls?.cpuSecondsPerGB ?? Number.NaN) / (haproxy?.cpuSecondsPerGB ?? Number.NaN),
      (v) => v <= 1.1,
    ),
    check(
      'mtls added round trip ≤ 1.2× haproxy mTLS pair',
      (mtls?.addedRttP50Us ?? Number.NaN) / (haproxy?.addedRttP50Us ?? Number.NaN),
      (v) => v <= 1.2,
    ),
    check(
      'relay throughput ≥ 0.9× haproxy relay',
      (relay?.throughput1Gbps ?? Number.NaN) / (haproxyRelay?.throughput1Gbps ?? Number.NaN),
      (v) => v >= 0.9,
    ),
    check(
      `mtls sidecar RSS with ${biggestIdle?.connections ?? '?'} idle connections < 400 MB`,
      biggestIdle?.rssMb ?? Number.NaN,
      (v) => v < 400,
      0,
    ),
  ];
}

/** A horizontal SVG bar chart of one-stream throughput per scenario. */
export function svgChart(results: ScenarioResult[]): string {
  const rows = results.filter((r) => r.status === 'ok' && Number.isFinite(r.throughput1Gbps));
  const max = Math.max(1, ...rows.map((r) => r.throughput1Gbps));
  const barHeight = 22;
  const width = 640;
  const left = 140;
  const height = rows.length * (barHeight + 8) + 40;
  const bars = rows.map((r, i) => {
    const y = 30 + i * (barHeight + 8);
    const w = Math.max(1, ((width - left - 70) * r.throughput1Gbps) / max);
    const color =
      r.scenario.includes('haproxy') || r.scenario.includes('stunnel')
        ? '#9aa5b1'
        : r.scenario === 'direct'
          ? '#52606d'
          : '#2f80ed';
    return `  <text x="${left - 8}" y="${y + 15}" text-anchor="end">${r.scenario}</text>\n  <rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${color}"/>\n  <text x="${(left + w + 6).toFixed(1)}" y="${y + 15}">${r.throughput1Gbps.toFixed(1)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `  <text x="${left}" y="18" font-weight="bold">Throughput, one stream (Gbit/s)</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}

/** The Markdown report: machine, table, targets, and the chart. */
export function markdownReport(machine: MachineInfo, results: ScenarioResult[], chartFile: string): string {
  const head = COLUMNS.map(([name]) => name);
  const rows = tableRows(results).map((row) =>
    row.length === 2 ? [row[0] ?? '', row[1] ?? '', ...Array(head.length - 2).fill('')] : row,
  );
  const targets = checkTargets(results);
  return [
    `# Switchyard bench — ${machine.date} (${machine.mode})`,
    '',
    `${machine.cores} cores (${machine.cpu}), Node ${machine.node}, OpenSSL ${machine.openssl}, TLS ${machine.tls}; load: ${machine.load}.`,
    'Figures from one run on a shared machine: compare the ratios, not absolute numbers across runs.',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    '## Targets (ratios from this run)',
    '',
    '| target | value | met |',
    '|---|---|---|',
    ...targets.map(
      (t) =>
        `| ${t.target} | ${t.value} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no — Switchyard is behind**'} |`,
    ),
    '',
    `![throughput](${chartFile})`,
    '',
    'Scenarios:',
    ...results.map((r) => `- \`${r.scenario}\`: ${r.description}`),
    '',
  ].join('\n');
}
