import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';
import { metadataPolicy } from './metadata-policy.js';

const base = { identity: { caDir: '/ca' } };

describe('the metadata capture policy', () => {
  it('captures only outbound TCP to the endpoints, by address and port', () => {
    const m = validateConfig(
      { ...base, metadataProxy: { endpoints: ['169.254.169.254:80', '[fd00:ec2::254]:80'] } },
      '/etc',
    ).metadataProxy;
    expect(metadataPolicy(m!, { mark: 0x539 })).toEqual({
      id: 'switchyard-metadata',
      families: ['ipv4', 'ipv6'],
      outbound: {
        port: 15081,
        includeCidrs: ['169.254.169.254/32', 'fd00:ec2::254/128'],
        includePorts: [80],
      },
      bypass: { mark: 0x539 },
    });
    expect(metadataPolicy(m!, { mark: 0x539, userSid: 'S-1-5-18' }).bypass).toEqual({ userSid: 'S-1-5-18' });
  });
});
