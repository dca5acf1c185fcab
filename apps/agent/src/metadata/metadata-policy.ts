import { isIP } from 'node:net';
import type { IpFamily, RedirectionPolicy } from '@switchyard/core';
import type { AgentConfig, MetadataEndpoint, MetadataProxyConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';

/** The IP families of the metadata endpoints. */
export function endpointFamilies(endpoints: readonly MetadataEndpoint[]): IpFamily[] {
  return [...new Set(endpoints.map((e) => (isIP(e.address) === 6 ? 'ipv6' : 'ipv4') as IpFamily))];
}

/**
 * Pure: the capture policy of a metadata client. Only outbound TCP to the metadata endpoints is
 * captured (on Windows this becomes an `L4WFPPROXY` policy whose filter names the endpoint's
 * remote address); everything else the container does is untouched.
 */
export function metadataPolicy(
  m: MetadataProxyConfig,
  bypass: AgentConfig['bypass'],
): RedirectionPolicy & { id: string } {
  return {
    id: AGENT_DEFAULTS.metadataProxy.policyId,
    families: endpointFamilies(m.endpoints),
    outbound: {
      port: m.port,
      includeCidrs: [...new Set(m.endpoints.map((e) => `${e.address}/${isIP(e.address) === 6 ? 128 : 32}`))],
      includePorts: [...new Set(m.endpoints.map((e) => e.port))],
    },
    bypass: bypass.userSid ? { userSid: bypass.userSid } : { mark: bypass.mark },
  };
}
