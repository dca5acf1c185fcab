import { parseCidr, withoutCoveredBlocks } from './cidr.js';
import { PolicyInvalidError } from './errors.js';
import {
  DEFAULT_POLICY_ID,
  DEFAULT_PORTS,
  type IpFamily,
  type NormalizedBypass,
  type NormalizedInbound,
  type NormalizedOutbound,
  type NormalizedPolicy,
  type PortRange,
} from './policy.js';
import type { PolicyIssue } from './policy-issue.js';
import { isPort, mergePortRanges, parsePortSpec } from './port-range.js';
import { quoteInput } from './quote.js';

/** The outcome of {@link validatePolicy}: the normalized policy, or every problem found. */
export type PolicyValidation = { ok: true; policy: NormalizedPolicy } | { ok: false; issues: PolicyIssue[] };

const FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];
const POLICY_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** What a policy id may be, in words (for messages about a bad one). */
export const POLICY_ID_RULE = '1–32 lowercase letters, digits, "-" or "_", starting with a letter or digit';

/** Whether `id` can name a policy (a bad one can name nothing on a target). */
export function isPolicyId(id: string): boolean {
  return POLICY_ID.test(id);
}
const SID = /^S-1-\d+(-\d+)+$/i;
const MAX_U32 = 0xffffffff;
/**
 * The most entries one list of a policy may hold (documented in docs/policy.md): normalising is
 * O(n log n), and 100,000 CIDRs take well under a second (`pnpm bench:micro`).
 */
export const MAX_LIST_ENTRIES = 100_000;
/** HNS's FilterTuple priority is 16 bits wide. */
const MAX_PRIORITY = 65535;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/** Collects issues while walking one policy document. */
class Checker {
  readonly issues: PolicyIssue[] = [];

  report(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Reports keys the schema does not know: typos would otherwise be silently ignored. */
  knownKeys(obj: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        this.report(
          join(path, key),
          `unknown field ${quoteInput(key)}; the fields here are ${known.map((k) => `"${k}"`).join(', ')}`,
        );
      }
    }
  }

  object(parent: Obj, key: string, path: string): Obj | undefined {
    const value = parent[key];
    if (value === undefined) return undefined;
    if (!isObject(value)) {
      this.report(join(path, key), `must be an object, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  integer(
    parent: Obj,
    key: string,
    path: string,
    min: number,
    max: number,
    hint: string,
  ): number | undefined {
    const value = parent[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.report(join(path, key), `${describe(value)} is not valid; ${hint}`);
      return undefined;
    }
    return value;
  }

  port(parent: Obj, key: string, path: string, fallback: number): number {
    const value = parent[key];
    if (value === undefined) return fallback;
    if (!isPort(value)) {
      this.report(join(path, key), `${describe(value)} is not a port; use a whole number from 1 to 65535`);
      return fallback;
    }
    return value;
  }

  array(parent: Obj, key: string, path: string): unknown[] {
    const value = parent[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.report(
        join(path, key),
        `must be a list, got ${describe(value)}; write e.g. [${key.endsWith('Cidrs') ? '"10.0.0.0/8"' : '8080'}]`,
      );
      return [];
    }
    if (value.length > MAX_LIST_ENTRIES) {
      this.report(
        join(path, key),
        `lists ${value.length} entries, more than the ${MAX_LIST_ENTRIES} a policy list may hold; merge them into wider ${key.endsWith('Cidrs') ? 'blocks' : 'ranges'}`,
      );
      return [];
    }
    return value;
  }

  ports(parent: Obj, key: string, path: string): PortRange[] {
    const out: PortRange[] = [];
    this.array(parent, key, path).forEach((spec, i) => {
      const parsed = parsePortSpec(spec);
      if (typeof parsed === 'string') this.report(join(join(path, key), i), parsed);
      else out.push(parsed);
    });
    return mergePortRanges(out);
  }

  cidrs(parent: Obj, key: string, path: string, families: readonly IpFamily[]): string[] {
    const out: string[] = [];
    this.array(parent, key, path).forEach((item, i) => {
      const at = join(join(path, key), i);
      if (typeof item !== 'string') {
        this.report(at, `${describe(item)} is not a CIDR block; write a string such as "10.0.0.0/8"`);
        return;
      }
      const parsed = parseCidr(item);
      if (!parsed.ok) {
        this.report(at, parsed.message);
        return;
      }
      if (!families.includes(parsed.family)) {
        this.report(
          at,
          `${parsed.text} is ${parsed.family === 'ipv4' ? 'IPv4' : 'IPv6'} but "families" is ${JSON.stringify(families)}; add "${parsed.family}" to "families" or remove this entry`,
        );
        return;
      }
      out.push(parsed.text);
    });
    // Keep the smallest equal set: a block inside another adds nothing (and nftables refuses overlaps).
    return withoutCoveredBlocks(out);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return quoteInput(value);
}

/**
 * Checks a policy document and fills in every default.
 *
 * Never throws: returns either the {@link NormalizedPolicy} or every problem found, each with the
 * path of the field and a sentence saying how to fix it. Unknown fields are problems too, so a
 * misspelt option is never silently ignored.
 *
 * @example
 * ```ts
 * const result = validatePolicy({ inbound: { port: 15006, excludePorts: [15008] } });
 * if (!result.ok) console.error(result.issues);
 * ```
 */
export function validatePolicy(input: unknown): PolicyValidation {
  const c = new Checker();
  if (!isObject(input)) {
    c.report(
      '',
      `a policy must be an object such as {"inbound": {"port": ${DEFAULT_PORTS.inbound}}}, got ${describe(input)}`,
    );
    return { ok: false, issues: c.issues };
  }
  c.knownKeys(input, '', ['id', 'protocol', 'families', 'inbound', 'outbound', 'bypass', 'priority']);

  let id = DEFAULT_POLICY_ID;
  if (input.id !== undefined) {
    if (typeof input.id === 'string' && POLICY_ID.test(input.id)) id = input.id;
    else c.report('id', `${describe(input.id)} is not a usable id; use ${POLICY_ID_RULE}`);
  }

  let protocol: 'tcp' = 'tcp';
  if (input.protocol !== undefined && input.protocol !== 'tcp') {
    c.report(
      'protocol',
      input.protocol === 'udp'
        ? 'UDP capture is not supported yet; use "tcp"'
        : `${describe(input.protocol)} is not a protocol; use "tcp"`,
    );
  } else protocol = 'tcp';

  let families: IpFamily[] = [...FAMILIES];
  if (input.families !== undefined) {
    const given = input.families;
    if (!Array.isArray(given) || given.length === 0) {
      c.report('families', `must be a non-empty list of "ipv4" and/or "ipv6", got ${describe(given)}`);
    } else {
      const picked: IpFamily[] = [];
      given.forEach((f, i) => {
        if (!FAMILIES.includes(f as IpFamily))
          c.report(`families[${i}]`, `${describe(f)} is not an IP family; use "ipv4" or "ipv6"`);
        else if (picked.includes(f as IpFamily))
          c.report(`families[${i}]`, `"${f}" is listed twice; list each family once`);
        else picked.push(f as IpFamily);
      });
      if (picked.length > 0) families = FAMILIES.filter((f) => picked.includes(f));
    }
  }

  let inbound: NormalizedInbound | undefined;
  const inObj = c.object(input, 'inbound', '');
  if (inObj) {
    c.knownKeys(inObj, 'inbound', ['port', 'includePorts', 'excludePorts']);
    inbound = {
      port: c.port(inObj, 'port', 'inbound', DEFAULT_PORTS.inbound),
      includePorts: c.ports(inObj, 'includePorts', 'inbound'),
      excludePorts: c.ports(inObj, 'excludePorts', 'inbound'),
    };
  }

  let outbound: NormalizedOutbound | undefined;
  const outObj = c.object(input, 'outbound', '');
  if (outObj) {
    c.knownKeys(outObj, 'outbound', ['port', 'includeCidrs', 'excludeCidrs', 'includePorts', 'excludePorts']);
    outbound = {
      port: c.port(outObj, 'port', 'outbound', DEFAULT_PORTS.outbound),
      includeCidrs: c.cidrs(outObj, 'includeCidrs', 'outbound', families),
      excludeCidrs: c.cidrs(outObj, 'excludeCidrs', 'outbound', families),
      includePorts: c.ports(outObj, 'includePorts', 'outbound'),
      excludePorts: c.ports(outObj, 'excludePorts', 'outbound'),
    };
  }

  if (input.inbound === undefined && input.outbound === undefined) {
    c.report(
      '',
      `nothing to capture; add "inbound": {"port": ${DEFAULT_PORTS.inbound}} and/or "outbound": {"port": ${DEFAULT_PORTS.outbound}}`,
    );
  }
  const portsValid = [inObj?.port, outObj?.port].every((p) => p === undefined || isPort(p));
  if (inbound && outbound && portsValid && inbound.port === outbound.port) {
    c.report(
      'outbound.port',
      `is the same as inbound.port (${inbound.port}); the proxy could not tell the directions apart, so give each its own port`,
    );
  }

  const bypass: NormalizedBypass = {};
  const byObj = c.object(input, 'bypass', '');
  if (byObj) {
    c.knownKeys(byObj, 'bypass', ['mark', 'uid', 'gid', 'userSid']);
    const limits = {
      mark: [1, MAX_U32, 'use a whole number from 1 to 4294967295 (0 means "no mark" and cannot be matched)'],
      uid: [0, MAX_U32 - 1, 'use a numeric user id from 0 to 4294967294'],
      gid: [0, MAX_U32 - 1, 'use a numeric group id from 0 to 4294967294'],
    } as const;
    for (const [key, [min, max, hint]] of Object.entries(limits)) {
      const value = c.integer(byObj, key, 'bypass', min, max, hint);
      if (value !== undefined) bypass[key as keyof typeof limits] = value;
    }
    if (byObj.userSid !== undefined) {
      if (typeof byObj.userSid === 'string' && SID.test(byObj.userSid))
        bypass.userSid = byObj.userSid.toUpperCase();
      else
        c.report(
          'bypass.userSid',
          `${describe(byObj.userSid)} is not a Windows SID; write it like "S-1-5-32-556" (a group SID matches all its members by prefix)`,
        );
    }
  }

  const priority =
    c.integer(
      input,
      'priority',
      '',
      0,
      MAX_PRIORITY,
      `use a whole number from 0 to ${MAX_PRIORITY} (lower is evaluated first)`,
    ) ?? 0;

  if (c.issues.length > 0) return { ok: false, issues: c.issues };
  const policy: NormalizedPolicy = { id, protocol, families, bypass, priority };
  if (inbound) policy.inbound = inbound;
  if (outbound) policy.outbound = outbound;
  return { ok: true, policy };
}

/**
 * Like {@link validatePolicy} but throws {@link PolicyInvalidError} (code `SWY_ERR_POLICY_INVALID`)
 * listing every problem. Drivers call this first in `apply`, so a rejected policy changes nothing.
 */
export function normalizePolicy(input: unknown): NormalizedPolicy {
  const result = validatePolicy(input);
  if (!result.ok) throw new PolicyInvalidError(result.issues);
  return result.policy;
}
