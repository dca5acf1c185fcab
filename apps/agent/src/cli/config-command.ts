import { InputInvalidError, quoteInput } from '@switchyard/core';
import { type CertificateSummary, formatEndpoint } from '@switchyard/dataplane';
import type { AgentWorkloadConfig } from '../agent.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';
import { askAgent } from './status-command.js';

/** The output formats of `config`. */
const FORMATS = ['text', 'json', 'yaml'] as const;

/** How many pinned addresses the text form lists before it says "…and N more". */
const SHOWN_PINS = 10;

/**
 * `switchyard-agent config WORKLOAD [--json | -o yaml]` (like `istioctl proxy-config`): what one
 * workload runs with now, asked from the running agent's admin `/config?workload=…`.
 */
export async function configCommand(
  config: AgentConfig,
  workload: string,
  options: { json?: boolean; output?: string },
  io: AgentIo,
): Promise<number> {
  const format = options.json ? 'json' : (options.output ?? 'text');
  if (!(FORMATS as readonly string[]).includes(format))
    throw new InputInvalidError(`-o ${quoteInput(format)}: use one of ${FORMATS.join(', ')}`);
  const admin = formatEndpoint({ address: config.admin.host, port: config.admin.port });
  const url = `http://${admin}/config?workload=${encodeURIComponent(workload)}`;
  let report: AgentWorkloadConfig;
  try {
    report = await askAgent<AgentWorkloadConfig>(url);
  } catch (error) {
    if (/ answered 404 /.test((error as Error).message))
      throw new InputInvalidError(
        `the agent serves no workload ${quoteInput(workload)}; "switchyard-agent status" lists them (NAMESPACE/NAME)`,
      );
    throw error;
  }
  if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (format === 'yaml') io.stdout((await import('yaml')).stringify(report));
  else io.stdout(formatWorkloadConfig(report));
  return EXIT.ok;
}

const cert = (c: CertificateSummary) =>
  `${c.spiffeId ?? c.subject}, serial ${c.serialNumber}, valid ${c.notBefore} → ${c.notAfter}, issuer ${c.issuer}`;

/** The human form of a workload's config. */
export function formatWorkloadConfig(r: AgentWorkloadConfig): string {
  const rules = (p?: { allow: object[] }) =>
    p ? (p.allow.length ? p.allow.map((a) => JSON.stringify(a)).join(' or ') : 'nobody') : 'the default';
  const list = (items?: readonly unknown[]) => (items?.length ? items.join(', ') : '-');
  const pins = Object.entries(r.pinnedIdentities);
  const lines = [
    `workload ${r.id} · carrier ${r.carrier} · ${r.state}`,
    `certificate   ${r.certificate ? cert(r.certificate) : 'none (its carrier needs no identity)'}`,
    ...r.trustBundle.map((c, i) => `${i === 0 ? 'trust bundle' : '            '}  ${cert(c)}`),
    `listeners     ${list(r.listeners.map((l) => `${l.role} ${formatEndpoint(l)}`))}`,
    r.inbound
      ? `inbound       allow ${rules(r.inbound.authorization)}; plain from ${list(r.inbound.plaintextSources)}; plain ports ${list(r.inbound.plaintextPorts)}`
      : 'inbound       none',
    r.outbound
      ? `outbound      mesh ${list(r.outbound.meshCidrs)}; outside the mesh ${r.outbound.passthroughOutsideMesh ? 'passed through' : 'refused'}; allow ${rules(r.outbound.authorization)}`
      : 'outbound      none',
    `pinned        ${pins.length} address${pins.length === 1 ? '' : 'es'}${
      pins.length
        ? `: ${pins
            .slice(0, SHOWN_PINS)
            .map(([a, id]) => `${a} → ${id}`)
            .join(
              ', ',
            )}${pins.length > SHOWN_PINS ? `, …and ${pins.length - SHOWN_PINS} more (--json lists all)` : ''}`
        : ''
    }`,
    ...(r.services
      ? [
          `services      ${r.services.length} known${r.services.length ? `: ${r.services.slice(0, SHOWN_PINS).join(', ')}` : ''}`,
        ]
      : []),
    `recent denials ${r.recentDenials.length ? '' : 'none'}`,
    ...r.recentDenials.map(
      (d) =>
        `  ${d.time} ${d.direction} ${d.outcome}${d.code ? ` (${d.code})` : ''}${d.source ? ` from ${d.source}` : ''}${d.destination ? ` to ${d.destination}` : ''}${d.peer ? ` peer ${d.peer}` : ''}${d.reason ? `: ${d.reason}` : ''}`,
    ),
  ];
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`;
}
