import {
  type DriverRegistry,
  InputInvalidError,
  isPolicyId,
  normalizePolicy,
  POLICY_ID_RULE,
  quoteInput,
  type RedirectionPolicy,
  type Target,
} from '@switchyard/core';
import { stringify } from 'yaml';
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';
import { hasPolicyFlags, type PolicyFlags, policyFromFlags } from '../policy-from-flags.js';
import { readDocument } from '../read-document.js';
import { containerTarget } from './lookup.js';

/** Options shared by every `redirect` subcommand. */
export interface RedirectOptions extends PolicyFlags {
  netns?: string;
  container?: string;
  runtimeEndpoint?: string;
  driver?: string;
  policy?: string;
}

/** The target of a `redirect` command: `--netns`, or `--container` resolved through CRI. */
async function targetOf(options: RedirectOptions): Promise<Target> {
  if (options.container !== undefined) {
    if (options.netns !== undefined)
      throw new InputInvalidError('give either --netns or --container, not both');
    return containerTarget(
      options.container,
      options.runtimeEndpoint ? { runtimeEndpoint: options.runtimeEndpoint } : {},
    );
  }
  if (options.runtimeEndpoint !== undefined)
    throw new InputInvalidError(
      '--runtime-endpoint is for finding a --container through CRI; add --container ID, or drop it',
    );
  return netnsTarget(options.netns);
}

const where = (o: RedirectOptions) => o.netns ?? `container ${o.container}`;

/** `--netns NAME|PATH|PID` as a core target. */
export function netnsTarget(value: string | undefined): Target {
  if (value === undefined || value === '') {
    throw new InputInvalidError(
      'say which network namespace: --netns NAME (as in "ip netns"), --netns /path, or --netns PID',
    );
  }
  if (/^\d+$/.test(value)) return { kind: 'netns', pid: Number(value) };
  if (value.startsWith('/')) return { kind: 'netns', path: value };
  return { kind: 'netns', name: value };
}

/** The driver `redirect` uses when `--driver` is not given: this platform's capture driver. */
export function defaultDriver(): string {
  return process.platform === 'win32' ? 'hns' : 'tproxy';
}

async function policyOf(options: RedirectOptions, cwd: string): Promise<unknown> {
  if (options.policy !== undefined) {
    if (hasPolicyFlags(options))
      throw new InputInvalidError('give the policy either as --policy FILE or as flags, not both');
    return readDocument(options.policy, cwd);
  }
  return policyFromFlags(options);
}

/** `switchyard redirect plan|apply`: what the driver would write (plan) or wrote (apply); both print the same artifact. */
export async function redirectApplyCommand(
  registry: DriverRegistry,
  options: RedirectOptions,
  io: CliIo,
  json: boolean,
  dryRun: boolean,
): Promise<number> {
  const document = (await policyOf(options, io.cwd)) as RedirectionPolicy;
  normalizePolicy(document); // bad input is reported before any driver loads or touches the host
  const target = await targetOf(options);
  const driver = await registry.create(options.driver ?? defaultDriver());
  const result = await driver.apply(target, document, { dryRun });
  if (json) {
    printJson(io, { driver: driver.name, target, ...result });
    return EXIT.ok;
  }
  io.stdout(result.artifact.content);
  const what = dryRun
    ? result.changed
      ? 'would change'
      : 'would not change'
    : result.changed
      ? 'applied to'
      : 'already on';
  io.stderr(`policy "${result.id}" ${what} ${where(options)} (driver ${driver.name})\n`);
  return EXIT.ok;
}

/** `switchyard redirect list`: the policies on the target, read back from the host. */
export async function redirectListCommand(
  registry: DriverRegistry,
  options: RedirectOptions,
  io: CliIo,
  json: boolean,
) {
  const target = await targetOf(options);
  const driver = await registry.create(options.driver ?? defaultDriver());
  const policies = await driver.list(target);
  if (json) printJson(io, { driver: driver.name, target, policies });
  else if (policies.length === 0) io.stdout(`no Switchyard policy on ${where(options)}\n`);
  else for (const p of policies) io.stdout(policyText(p.id, p.policy));
  return EXIT.ok;
}

/** A policy for a person: its id, then its fields as indented YAML (`--json` has the JSON). */
function policyText(id: string, policy: unknown): string {
  const body = stringify(policy).trimEnd().replace(/^/gm, '  ');
  return `policy ${id}\n${body}\n`;
}

/** `switchyard redirect remove [--id ID]`: removes Switchyard's policies and says how many. */
export async function redirectRemoveCommand(
  registry: DriverRegistry,
  options: RedirectOptions & { id?: string },
  io: CliIo,
  json: boolean,
) {
  if (options.id !== undefined && !isPolicyId(options.id))
    throw new InputInvalidError(
      `--id ${quoteInput(options.id)} cannot name a policy (an id is ${POLICY_ID_RULE}); "switchyard redirect list" shows the ids on the target`,
    );
  const target = await targetOf(options);
  const driver = await registry.create(options.driver ?? defaultDriver());
  const removed = await driver.remove(target, options.id);
  if (json) printJson(io, { driver: driver.name, target, removed });
  else io.stdout(`Removed ${removed} ${removed === 1 ? 'policy' : 'policies'}\n`);
  return EXIT.ok;
}
