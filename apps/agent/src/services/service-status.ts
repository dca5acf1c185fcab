import { InputInvalidError } from '@switchyard/core';
import type { EndpointReport, ServiceReport } from './service-report.js';

/** Kubernetes names: a namespace (DNS label) and a Service name (DNS label), `NS/NAME`. */
const SERVICE_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Checks a `--service` argument.
 *
 * @throws InputInvalidError naming the expected form.
 */
export function parseServiceId(text: string): string {
  if (!SERVICE_ID.test(text))
    throw new InputInvalidError(
      `--service "${text.slice(0, 80)}" is not NAMESPACE/NAME (lower-case Kubernetes names, e.g. web/api)`,
    );
  return text;
}

/** What the IDENTITY column says of an endpoint, by its state. */
function identityColumn(e: EndpointReport): string {
  if (e.state === 'unverified' || !e.identity) return '- (unverified: pod unknown or stale; refused)';
  return e.state === 'plain' ? `${e.identity} (outside the mesh)` : e.identity;
}

/** The human form of one Service: its addresses, then one line per port and endpoint. */
export function formatServiceReport(r: ServiceReport): string {
  const head = `service ${r.service} · ${r.headless ? 'headless (pods reached at their own addresses)' : r.clusterIPs.join(', ')}\n`;
  const rows = r.ports.flatMap((p) => {
    const port = `${p.name || '-'} ${p.port}→${p.targetPort}`;
    if (p.endpoints.length === 0) return [[port, '(no endpoints)', '', '', '', '']];
    return p.endpoints.map((e) => [
      port,
      `${e.address}:${e.port}`,
      e.pod ?? '-',
      e.node ?? '-',
      e.ready ? 'ready' : e.serving && e.terminating ? 'terminating' : 'not ready',
      identityColumn(e),
    ]);
  });
  if (rows.length === 0) return `${head}no TCP ports\n`;
  const table = [['PORT', 'ENDPOINT', 'POD', 'NODE', 'STATE', 'IDENTITY'], ...rows];
  const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return (
    head +
    table
      .map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') +
    '\n'
  );
}
