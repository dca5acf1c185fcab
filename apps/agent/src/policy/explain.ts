import { isIP } from 'node:net';
import { InputInvalidError } from '@switchyard/core';
import { parseSpiffeId } from '@switchyard/mesh';
import type { PolicyConnection } from './evaluate.js';
import type { PolicyAuthorizer, PolicyExplanation } from './policy-authorizer.js';

/** What `explain` resolves names and addresses with: the agent's own state. */
export interface ExplainLookups {
  /** The workloads this agent serves. */
  workloads(): Iterable<{ id: string; addresses: string[]; spiffeId: string }>;
  /** The identity a known address must present. */
  identityOf(address: string): string | undefined;
  /** A pod by `namespace/name` (Kubernetes source). */
  pod(id: string): { address: string; spiffeId: string } | undefined;
}

/** `explain`'s answer: who connects, to what, and the decision with every policy that applies. */
export interface Explanation extends PolicyExplanation {
  /** `address` is empty for a bare SPIFFE ID; `note` then says how address rules were read. */
  from: { address: string; peer?: string; name?: string; note?: string };
  to: { workload: string; address: string; port: number };
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** What a FROM given as a bare SPIFFE ID says about address rules it cannot be checked against. */
export const NO_ADDRESS_NOTE =
  'a SPIFFE ID without an address: ipBlocks match nothing and notIpBlocks everything; give a pod or an address to decide them';

/**
 * What the data plane would decide for a connection from `from` (`NAMESPACE/POD`; an address:
 * its identity if the agent knows one, else plain TCP from outside the mesh; or a bare SPIFFE ID,
 * `spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/ACCOUNT`: that identity from no address) to `to`
 * (`NAMESPACE/POD:PORT` or `ADDRESS:PORT` of a workload this agent serves): the same decision
 * the authorizer makes, from the same state, counting nothing.
 *
 * @throws InputInvalidError for a malformed or unknown name or address.
 */
export function explain(
  from: string,
  to: string,
  lookups: ExplainLookups,
  authorizer: PolicyAuthorizer,
): Explanation {
  const source = resolveFrom(from, lookups);
  const target = resolveTo(to, lookups);
  const connection: PolicyConnection = {
    source: source.address,
    destination: { address: target.address, port: target.port },
    ...(source.peer ? { peer: source.peer } : {}),
  };
  return { ...authorizer.explain(target.workload, connection), from: source, to: target };
}

function resolveFrom(from: string, l: ExplainLookups): Explanation['from'] {
  if (from.startsWith('spiffe://')) {
    if (!parseSpiffeId(from))
      throw new InputInvalidError(
        `FROM "${from.slice(0, 100)}" is not a workload SPIFFE ID (spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/ACCOUNT)`,
      );
    return { address: '', peer: from, note: NO_ADDRESS_NOTE };
  }
  if (isIP(from)) {
    const local = [...l.workloads()].find((w) => w.addresses.includes(from));
    const peer = local?.spiffeId ?? l.identityOf(from);
    return { address: from, ...(peer ? { peer } : {}), ...(local ? { name: local.id } : {}) };
  }
  if (!NAME.test(from))
    throw new InputInvalidError(
      `FROM "${from.slice(0, 100)}" is neither NAMESPACE/POD, an IP address nor a spiffe:// ID`,
    );
  const local = [...l.workloads()].find((w) => w.id === from);
  if (local?.addresses[0]) return { address: local.addresses[0], peer: local.spiffeId, name: from };
  const pod = l.pod(from);
  if (!pod) throw new InputInvalidError(`the agent knows no pod ${from}; give its address instead`);
  return { address: pod.address, peer: pod.spiffeId, name: from };
}

function resolveTo(to: string, l: ExplainLookups): Explanation['to'] {
  const colon = to.lastIndexOf(':');
  const host = to.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(to.slice(colon + 1));
  if (colon < 1 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InputInvalidError(`TO "${to.slice(0, 100)}" is not NAMESPACE/POD:PORT or ADDRESS:PORT`);
  const workloads = [...l.workloads()];
  const w = isIP(host)
    ? workloads.find((x) => x.addresses.includes(host))
    : workloads.find((x) => x.id === host);
  if (!w)
    throw new InputInvalidError(
      `${host} is not a workload this agent serves; ask the agent on the destination's node`,
    );
  return { workload: w.id, address: isIP(host) ? host : (w.addresses[0] ?? ''), port };
}
