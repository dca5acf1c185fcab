import { parseAuthority } from '@switchyard/hbone';
import type { MetadataEndpoint, MetadataProxyConfig } from './agent-config.js';
import { AGENT_DEFAULTS } from './defaults.js';
import type { Issues } from './issues.js';

const D = AGENT_DEFAULTS.metadataProxy;

/**
 * Reads `ADDRESS:PORT` (`169.254.169.254:80`, `[fd00:ec2::254]:80`), or undefined when the text
 * is not one IP address and port.
 */
export function parseEndpoint(text: string): MetadataEndpoint | undefined {
  return parseAuthority(text.trim());
}

/**
 * Checks the `metadataProxy` section and fills in its defaults; undefined when the section is
 * absent (the feature is off). Problems go to `is` with their field paths.
 */
export function validateMetadataProxy(is: Issues, value: unknown): MetadataProxyConfig | undefined {
  if (value === undefined) return undefined;
  const m = is.object('metadataProxy', value);
  is.unknown('metadataProxy', m, [
    'docker',
    'label',
    'endpoints',
    'port',
    'proxyPort',
    'whenNoProxy',
    'caller',
  ]);
  const endpoints = is.array('metadataProxy.endpoints', m.endpoints ?? D.endpoints).flatMap((text, i) => {
    const parsed = typeof text === 'string' ? parseEndpoint(text) : undefined;
    if (parsed) return [parsed];
    is.add(
      `metadataProxy.endpoints[${i}]`,
      `${JSON.stringify(text)} is not an address and port; write it like "169.254.169.254:80" or "[fd00:ec2::254]:80"`,
    );
    return [];
  });
  if (Array.isArray(m.endpoints) && m.endpoints.length === 0)
    is.add('metadataProxy.endpoints', 'name at least one endpoint, e.g. "169.254.169.254:80"');
  const proxyPort =
    m.proxyPort === undefined ? undefined : is.port('metadataProxy.proxyPort', m.proxyPort, 0);
  return {
    docker: is.string('metadataProxy.docker', m.docker, AGENT_DEFAULTS.dockerSocket),
    label: is.string('metadataProxy.label', m.label, D.label),
    endpoints,
    port: is.port('metadataProxy.port', m.port, D.port),
    ...(proxyPort ? { proxyPort } : {}),
    whenNoProxy: is.oneOf('metadataProxy.whenNoProxy', m.whenNoProxy, ['refuse', 'direct'], D.whenNoProxy),
    caller: is.oneOf('metadataProxy.caller', m.caller, ['agent', 'source', 'proxy-v2'], D.caller),
  };
}
