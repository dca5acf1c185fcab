import { IDLE_TARGET_CONNECTIONS, rssAt } from './idle-memory.js';
import type { MachineInfo } from './report.js';
import type { ScenarioResult } from './scenario-result.js';
import { targetMark } from './targets.js';

interface Panel {
  title: string;
  metric: 'throughput1Gbps' | 'cpuSecondsPerGB' | 'addedRttP50Us' | 'idleMb';
  value(r: ScenarioResult): number;
  digits: number;
}

const PANELS: readonly Panel[] = [
  {
    title: 'Throughput, one stream (Gbit/s, higher is better)',
    metric: 'throughput1Gbps',
    value: (r) => r.throughput1Gbps,
    digits: 1,
  },
  {
    title: 'CPU seconds per GB, all proxies (lower is better)',
    metric: 'cpuSecondsPerGB',
    value: (r) => r.cpuSecondsPerGB,
    digits: 2,
  },
  {
    title: 'Round trip added over direct, p50 (µs, lower is better)',
    metric: 'addedRttP50Us',
    value: (r) => r.addedRttP50Us,
    digits: 1,
  },
  {
    // The target is set at this count, so the bars are too (extrapolated from the slope when the
    // run held fewer): the red mark and the bars are on one basis.
    title: `Resident MB at ${IDLE_TARGET_CONNECTIONS.toLocaleString('en')} idle connections (extrapolated when fewer were held; lower is better)`,
    metric: 'idleMb',
    value: (r) => rssAt(r.idle, IDLE_TARGET_CONNECTIONS).mb,
    digits: 0,
  },
];

const WIDTH = 720;
const LEFT = 150;
const BAR = 18;
const GAP = 6;

/** The colours, what each means, and which scenarios take it. */
const KINDS = [
  { fill: '#52606d', label: 'direct (no proxy, the reference)', is: (s: string) => s === 'direct' },
  {
    fill: '#9aa5b1',
    label: 'peers: haproxy, stunnel',
    is: (s: string) => s.includes('haproxy') || s.includes('stunnel'),
  },
  {
    fill: '#27ae60',
    label: 'Switchyard, native engine',
    is: (s: string) => s.includes('native') || s.includes('splice'),
  },
  { fill: '#2f80ed', label: 'Switchyard, JavaScript', is: () => true },
] as const;

const color = (scenario: string) => KINDS.find((k) => k.is(scenario))?.fill ?? '#2f80ed';
const xml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** Why a scenario has no bar in a panel, or undefined when it has one. */
function missing(p: Panel, r: ScenarioResult): string | undefined {
  if (r.status !== 'ok') return r.status === 'skipped' ? 'skipped' : 'failed';
  const v = p.value(r);
  if (!Number.isFinite(v)) return 'not measured';
  if (v < 0) return 'below direct: noise';
  return undefined;
}

/** One panel's SVG elements, starting at `top`; returns them and the panel's height. */
function panel(p: Panel, results: ScenarioResult[], top: number): { svg: string[]; height: number } {
  const rows = results.filter((r) => missing(p, r) === undefined);
  const marks = rows.map((r) => targetMark(results, r.scenario, p.metric));
  const max = Math.max(1e-9, ...rows.map(p.value), ...marks.filter((m): m is number => m !== undefined));
  const scale = (v: number) => ((WIDTH - LEFT - 70) * v) / max;
  const svg = [`  <text x="${LEFT}" y="${top + 14}" font-weight="bold">${xml(p.title)}</text>`];
  rows.forEach((r, i) => {
    const y = top + 24 + i * (BAR + GAP);
    const w = Math.max(1, scale(p.value(r)));
    svg.push(
      `  <text x="${LEFT - 8}" y="${y + 13}" text-anchor="end">${r.scenario}</text>`,
      `  <rect x="${LEFT}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${color(r.scenario)}"/>`,
      `  <text x="${(LEFT + w + 6).toFixed(1)}" y="${y + 13}">${p.value(r).toFixed(p.digits)}</text>`,
    );
    const mark = marks[i];
    if (mark !== undefined) {
      const x = (LEFT + scale(mark)).toFixed(1);
      svg.push(
        `  <line class="target" x1="${x}" x2="${x}" y1="${y - 3}" y2="${y + BAR + 3}" stroke="#d64545" stroke-width="2" stroke-dasharray="3,2"><title>target ${mark.toFixed(p.digits)}</title></line>`,
      );
    }
  });
  // Rows left out are named, never dropped silently.
  const absent = results.flatMap((r) => {
    const why = missing(p, r);
    return why ? [`${r.scenario} (${why})`] : [];
  });
  let height = 30 + rows.length * (BAR + GAP);
  if (absent.length > 0) {
    svg.push(
      `  <text class="absent" x="${LEFT}" y="${top + height + 8}" fill="#7b8794">not shown: ${xml(absent.join(', '))}</text>`,
    );
    height += 16;
  }
  return { svg, height };
}

/** The header: what this is, when and where, and how much to trust one run. */
function header(machine: MachineInfo | undefined): string[] {
  const run =
    machine?.mode === 'full'
      ? 'full run'
      : 'quick run: one short run of each, so differences of ~20% are noise';
  const where = machine
    ? ` · ${machine.date.slice(0, 16).replace('T', ' ')} UTC · ${machine.cores} cores, ${machine.cpu} · Node ${machine.node}`
    : '';
  return [
    `  <text class="title" x="8" y="18" font-size="14" font-weight="bold">Switchyard bench · ${xml(run)}</text>`,
    `  <text x="8" y="36" fill="#52606d">${xml(where.replace(/^ · /, ''))}</text>`,
  ];
}

/** The colour legend, and the target mark's. */
function legend(top: number): string[] {
  const items: string[] = [];
  KINDS.forEach((k, i) => {
    const x = 8 + (i % 2) * 300;
    const y = top + Math.floor(i / 2) * 18;
    items.push(
      `  <rect class="legend" x="${x}" y="${y}" width="12" height="12" fill="${k.fill}"/>`,
      `  <text x="${x + 18}" y="${y + 11}">${xml(k.label)}</text>`,
    );
  });
  const y = top + 36;
  items.push(
    `  <line x1="8" x2="20" y1="${y + 6}" y2="${y + 6}" stroke="#d64545" stroke-width="2" stroke-dasharray="3,2"/>`,
    `  <text x="26" y="${y + 11}" fill="#d64545">the target for that row (as a ratio to haproxy in this run, or the memory limit)</text>`,
  );
  return items;
}

/**
 * Bar charts of throughput, CPU s/GB, added round trip and idle memory, with a header (run,
 * date, machine), a colour legend, targets marked in red, and every row left out named.
 */
export function svgChart(results: ScenarioResult[], machine?: MachineInfo): string {
  const parts: string[] = [...header(machine), ...legend(50)];
  let top = 110;
  for (const p of PANELS) {
    const { svg, height } = panel(p, results, top);
    parts.push(...svg);
    top += height + 10;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top + 10}" font-family="sans-serif" font-size="12">`,
    '  <rect width="100%" height="100%" fill="white"/>',
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
