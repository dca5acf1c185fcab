import type { PortRange, PortSpec } from './policy.js';
import { quoteInput } from './quote.js';

/** True when `value` is a whole number from 1 to 65535. */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * Parses a {@link PortSpec}: `8080`, `"8080"`, `"8000-8100"` (inclusive) or a normalized `{from, to}`.
 * Returns a range, or a sentence saying what is wrong.
 */
export function parsePortSpec(spec: unknown): PortRange | string {
  if (isPort(spec)) return { from: spec, to: spec };
  // A normalized policy carries ranges as objects; accepting them keeps normalization idempotent.
  if (typeof spec === 'object' && spec !== null && 'from' in spec && 'to' in spec) {
    const { from, to } = spec as { from: unknown; to: unknown };
    if (isPort(from) && isPort(to) && from <= to) return { from, to };
  }
  if (typeof spec === 'string') {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(spec);
    if (m) {
      const from = Number(m[1]);
      const to = m[2] === undefined ? from : Number(m[2]);
      if (isPort(from) && isPort(to) && from <= to) return { from, to };
      if (isPort(from) && isPort(to))
        return `range ${quoteInput(spec)} runs backwards; write it low-high, e.g. "${to}-${from}"`;
    }
  }
  return `${quoteInput(spec)} is not a port; use a whole number from 1 to 65535 or a range such as "8000-8100"`;
}

/** Sorts ranges and merges overlapping or adjacent ones, so equal sets compare equal. */
export function mergePortRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** Formats a range as `8080` or `8000-8100`. */
export function formatPortRange(range: PortRange): string {
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}

/** True when `port` falls inside any of `ranges`. */
export function portInRanges(port: number, ranges: readonly PortRange[]): boolean {
  return ranges.some((r) => port >= r.from && port <= r.to);
}
