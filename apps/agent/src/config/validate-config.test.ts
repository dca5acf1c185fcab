import { describe, expect, it } from 'vitest';
import { AGENT_DEFAULTS } from './defaults.js';
import { validateConfig } from './validate-config.js';

const problems = (doc: unknown) => {
  try {
    validateConfig(doc, '/etc/switchyard');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a problem');
};

describe('validateConfig', () => {
  it('fills every default from AGENT_DEFAULTS and resolves paths against the config folder', () => {
    const c = validateConfig({ identity: { caDir: 'ca' } }, '/etc/switchyard');
    expect(c.source).toEqual({ kind: 'file', path: '/etc/switchyard/workloads.yaml' });
    expect(c.identity).toEqual({ caDir: '/etc/switchyard/ca', certHours: AGENT_DEFAULTS.certHours });
    expect(c.ports).toEqual(AGENT_DEFAULTS.ports);
    expect(c.admin).toEqual(AGENT_DEFAULTS.admin);
    expect(c.bypass.mark).toBe(AGENT_DEFAULTS.bypassMark);
    expect(c.carrier).toBe(AGENT_DEFAULTS.carrier);
    expect(c.families).toEqual(['ipv4', 'ipv6']);
  });

  it('names every problem by its field path at once', () => {
    const message = problems({
      identity: { caDir: 'ca', certDir: 'x' },
      source: { kind: 'kubernetes', label: '' },
      ports: { inbound: 0, hbone: 15020 },
      meshCidrs: ['10.0.0.1/8'],
      carrier: 'udp',
      familes: ['ipv4'],
    });
    expect(message).toMatch(/has 7 problems/);
    for (const path of [
      'identity:',
      'source.label:',
      'ports.inbound:',
      'meshCidrs[0]:',
      'carrier:',
      'familes:',
      'admin.port:',
    ])
      expect(message).toContain(`  - ${path}`);
    expect(message).toContain('"10.0.0.0/8"');
  });

  it('wants an identity source', () => {
    expect(problems({})).toMatch(/identity: give caDir .* or certDir/);
  });

  it('refuses a config that is not a map', () => {
    expect(problems(['x'])).toMatch(/\(config\): expected a map of fields, got a list/);
  });
});
