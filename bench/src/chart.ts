import type { ScenarioResult } from './report.js';
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
    title: 'Resident MB, largest idle-connection count (lower is better)',
    metric: 'idleMb',
    value: (r) => r.idle.at(-1)?.rssMb ?? Number.NaN,
    digits: 0,
  },
];

const WIDTH = 680;
const LEFT = 150;
const BAR = 18;
const GAP = 6;

function color(scenario: string): string {
  if (scenario.includes('haproxy') || scenario.includes('stunnel')) return '#9aa5b1';
  if (scenario === 'direct') return '#52606d';
  return scenario.includes('native') || scenario.includes('splice') ? '#27ae60' : '#2f80ed';
}

/** One panel's SVG elements, starting at `top`; returns them and the panel's height. */
function panel(p: Panel, results: ScenarioResult[], top: number): { svg: string[]; height: number } {
  const rows = results.filter((r) => r.status === 'ok' && Number.isFinite(p.value(r)) && p.value(r) >= 0);
  const marks = rows.map((r) => targetMark(results, r.scenario, p.metric));
  const max = Math.max(1e-9, ...rows.map(p.value), ...marks.filter((m): m is number => m !== undefined));
  const scale = (v: number) => ((WIDTH - LEFT - 70) * v) / max;
  const svg = [`  <text x="${LEFT}" y="${top + 14}" font-weight="bold">${p.title}</text>`];
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
  return { svg, height: 34 + rows.length * (BAR + GAP) };
}

/** Bar charts of throughput, CPU s/GB, added round trip and idle memory, targets marked in red. */
export function svgChart(results: ScenarioResult[]): string {
  const parts: string[] = [];
  let top = 8;
  for (const p of PANELS) {
    const { svg, height } = panel(p, results, top);
    parts.push(...svg);
    top += height + 10;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top + 20}" font-family="sans-serif" font-size="12">`,
    ...parts,
    `  <text x="${LEFT}" y="${top + 8}" fill="#d64545">dashed red: the target for that row (ratios to haproxy in this run)</text>`,
    '</svg>',
    '',
  ].join('\n');
}
