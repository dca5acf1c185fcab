import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate-config.js';

const base = { identity: { caDir: '/ca' } };

describe('metadataProxy config', () => {
  it('is off unless given, and fills every default when given', () => {
    expect(validateConfig(base, '/etc').metadataProxy).toBeUndefined();
    expect(validateConfig({ ...base, metadataProxy: {} }, '/etc').metadataProxy).toEqual({
      docker: '/var/run/docker.sock',
      label: 'switchyard.io/metadata',
      endpoints: [{ address: '169.254.169.254', port: 80 }],
      port: 15081,
      whenNoProxy: 'refuse',
      caller: 'agent',
    });
  });

  it('reads IPv4 and IPv6 endpoints and the other fields', () => {
    const m = validateConfig(
      {
        ...base,
        metadataProxy: {
          docker: '/run/docker.sock',
          endpoints: ['169.254.169.254:80', '[fd00:ec2::254]:80', '169.254.170.2:8080'],
          proxyPort: 8081,
          whenNoProxy: 'direct',
          caller: 'proxy-v2',
        },
      },
      '/etc',
    ).metadataProxy;
    expect(m?.endpoints).toEqual([
      { address: '169.254.169.254', port: 80 },
      { address: 'fd00:ec2::254', port: 80 },
      { address: '169.254.170.2', port: 8080 },
    ]);
    expect(m).toMatchObject({
      docker: '/run/docker.sock',
      proxyPort: 8081,
      whenNoProxy: 'direct',
      caller: 'proxy-v2',
    });
  });

  it('reports every problem with its field path and what to write', () => {
    expect(() =>
      validateConfig(
        {
          ...base,
          metadataProxy: {
            endpoints: ['169.254.169.254', 'metadata:80'],
            port: 15001,
            whenNoProxy: 'open',
            caller: 'header',
            x: 1,
          },
        },
        '/etc',
      ),
    ).toThrow(
      [
        '  - metadataProxy.x: unknown field; the fields here are docker, label, endpoints, port, proxyPort, whenNoProxy, caller',
        '  - metadataProxy.endpoints[0]: "169.254.169.254" is not an address and port; write it like "169.254.169.254:80" or "[fd00:ec2::254]:80"',
        '  - metadataProxy.endpoints[1]: "metadata:80" is not an address and port; write it like "169.254.169.254:80" or "[fd00:ec2::254]:80"',
        '  - metadataProxy.whenNoProxy: "open" is not one of "refuse", "direct"',
        '  - metadataProxy.caller: "header" is not one of "agent", "source", "proxy-v2"',
        '  - metadataProxy.port: 15001 is also ports.outbound; every proxy port must be different',
      ].join('\n'),
    );
  });
});
