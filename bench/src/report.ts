import { kbPerConnection } from './idle-memory.js';
import type { ScenarioResult } from './scenario-result.js';
import { fmt } from './stats.js';
import { checkTargets } from './targets.js';

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

const COLUMNS = [
  ['scenario', 16],
  ['Gbit/s 1', 9],
  ['×direct', 8],
  ['Gbit/s 8', 9],
  ['RTT p50 µs', 11],
  ['+µs', 7],
  ['p99 µs', 8],
  ['conn/s', 8],
  ['CPU ms/conn', 12],
  ['CPU s/GB', 9],
  ['idle MB', 14],
  ['KB/conn', 8],
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
      fmt(r.cpuMsPerConnection, 2),
      fmt(r.cpuSecondsPerGB, 2),
      idle || '–',
      fmt(kbPerConnection(r.idle), 1),
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
    machine.mode === 'quick'
      ? 'Figures from one short run of each scenario on a shared machine: differences of ~20% are noise; compare the ratios, not absolute numbers across runs.'
      : 'Figures from one run on a shared machine: compare the ratios, not absolute numbers across runs.',
    '',
    'Columns: `Gbit/s 1` and `Gbit/s 8` throughput with one and eight streams; `×direct` the first as a share of no proxy; `RTT p50 µs`, `+µs` (added over direct) and `p99 µs` round trips; `conn/s` new connections per second; `CPU ms/conn` CPU milliseconds of all proxies per new connection (steadier than the rate on a loaded machine); `CPU s/GB` CPU seconds of all proxies per GB carried; `idle MB` resident MB of the largest proxy while holding N idle connections (`180@1k`: 180 MB at 1,000); `KB/conn` the slope between the two counts.',
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
    `![throughput, CPU per GB, added round trip and idle memory](${chartFile})`,
    '',
    'Scenarios:',
    ...results.map((r) => `- \`${r.scenario}\`: ${r.description}`),
    '',
  ].join('\n');
}
