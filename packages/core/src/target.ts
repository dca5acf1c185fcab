import { TargetInvalidError } from './errors.js';
import { quoteInput } from './quote.js';

/** A Linux network namespace, named as `ip netns` names it, by a path, or by a process in it. */
export type NetnsTarget =
  | { kind: 'netns'; name: string }
  | { kind: 'netns'; path: string }
  | { kind: 'netns'; pid: number };

/** A Windows HNS endpoint, by its GUID. */
export interface HnsEndpointTarget {
  kind: 'hns-endpoint';
  id: string;
}

/**
 * A target kind defined by a third-party driver. Its `kind` should be namespaced
 * (`"acme:vm"`) so it cannot collide with a built-in kind.
 */
export interface PluginTarget {
  kind: `${string}:${string}`;
  [field: string]: unknown;
}

/** Where a policy goes. Drivers declare which `kind`s they accept in `targetKinds`. */
export type Target = NetnsTarget | HnsEndpointTarget | PluginTarget;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,255}$/;

const TARGET_HELP =
  'write "netns:NAME", "netns:/path/to/ns", "pid:1234" or "hns:<endpoint GUID>" (a plugin target is "<plugin>:<value>")';

/**
 * Parses the command-line form of a target:
 * `netns:NAME`, `netns:/run/netns/NAME` (any absolute path), `pid:1234`, `hns:GUID`.
 * Anything else of the form `plugin:value` becomes a {@link PluginTarget} `{kind: 'plugin:target', value}`.
 *
 * @throws TargetInvalidError when the text has no kind, or the value does not fit the kind.
 */
export function parseTarget(text: string): Target {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1)
    throw new TargetInvalidError(`${quoteInput(text)} is not a target; ${TARGET_HELP}`);
  const kind = text.slice(0, at);
  const value = text.slice(at + 1);
  switch (kind) {
    case 'netns':
      if (value.startsWith('/')) return { kind: 'netns', path: value };
      if (NETNS_NAME.test(value) && value !== '.' && value !== '..') return { kind: 'netns', name: value };
      throw new TargetInvalidError(
        `${quoteInput(value)} is not a network namespace name; use letters, digits, ".", "_" or "-", or an absolute path`,
      );
    case 'pid': {
      const pid = Number(value);
      if (Number.isInteger(pid) && pid > 0 && /^\d+$/.test(value)) return { kind: 'netns', pid };
      throw new TargetInvalidError(
        `${quoteInput(value)} is not a process id; write a positive whole number, e.g. "pid:1234"`,
      );
    }
    case 'hns':
    case 'hns-endpoint':
      if (GUID.test(value)) return { kind: 'hns-endpoint', id: value.toLowerCase() };
      throw new TargetInvalidError(
        `${quoteInput(value)} is not an HNS endpoint GUID; it looks like "93f86a7f-e361-4362-b8a4-81bbb6a622dd"`,
      );
    default:
      return { kind: `${kind}:target`, value };
  }
}

/**
 * A stable string naming a target, the inverse of {@link parseTarget} for built-in kinds.
 * Useful as a map key and in messages.
 */
export function formatTarget(target: Target): string {
  if (target.kind === 'netns') {
    if ('name' in target) return `netns:${target.name}`;
    if ('path' in target) return `netns:${target.path}`;
    return `pid:${target.pid}`;
  }
  if (target.kind === 'hns-endpoint') return `hns:${(target as HnsEndpointTarget).id}`;
  const { kind, ...rest } = target as PluginTarget;
  const plugin = kind.endsWith(':target') ? kind.slice(0, -':target'.length) : kind;
  return typeof rest.value === 'string' && Object.keys(rest).length === 1
    ? `${plugin}:${rest.value}`
    : `${kind}${JSON.stringify(rest)}`;
}
