import { describe, expect, it } from 'vitest';
import { decideAuthority, decideInbound, decideOutbound } from './decide.js';

const PROXY = [15001, 15006, 15008, 15020];

describe('decideOutbound', () => {
  it.each([
    ['mesh destination', { address: '10.0.0.7', port: 8080 }, true, false, 'mesh'],
    ['outside the mesh, passthrough off', { address: '8.8.8.8', port: 53 }, false, false, 'deny'],
    ['outside the mesh, passthrough on', { address: '8.8.8.8', port: 53 }, false, true, 'passthrough'],
    ['loopback to a proxy port (a loop)', { address: '127.0.0.1', port: 15001 }, true, true, 'deny'],
    ['own address to a proxy port', { address: '10.0.0.5', port: 15006 }, true, true, 'deny'],
    ['own address to an app port', { address: '10.0.0.5', port: 8080 }, true, false, 'mesh'],
    ['another pod on a proxy port number', { address: '10.0.0.7', port: 15008 }, true, false, 'mesh'],
  ] as const)('%s → %s', (_name, destination, inMesh, passthrough, kind) => {
    const d = decideOutbound({
      destination,
      inMesh,
      passthroughOutsideMesh: passthrough,
      proxyPorts: PROXY,
      ownAddresses: ['10.0.0.5'],
    });
    expect(d.kind).toBe(kind);
  });

  it('names why it denies', () => {
    const d = decideOutbound({
      destination: { address: '127.0.0.1', port: 15008 },
      inMesh: false,
      passthroughOutsideMesh: true,
      proxyPorts: PROXY,
      ownAddresses: [],
    });
    expect(d).toMatchObject({ kind: 'deny', code: 'loop' });
  });
});

describe('decideInbound', () => {
  it.each([
    [false, false, 'mesh'],
    [true, false, 'plaintext'],
    [false, true, 'plaintext'],
    [true, true, 'plaintext'],
  ] as const)('plaintext source %s, plaintext port %s → %s', (source, port, kind) => {
    expect(decideInbound({ sourceAllowedPlain: source, portAllowedPlain: port }).kind).toBe(kind);
  });
});

describe('decideAuthority', () => {
  const facts = { arrivedOn: '10.0.0.5', workloadAddresses: ['10.0.0.5', 'fd00::5'], proxyPorts: PROXY };
  it.each([
    ['the arrival address, an app port', '10.0.0.5', 8080, 'allow', undefined],
    ['another address of the workload', 'fd00::5', 8080, 'allow', undefined],
    ['an IPv4-mapped form of the arrival address', '::ffff:10.0.0.5', 8080, 'allow', undefined],
    ['another pod (open relay)', '10.0.0.9', 8080, 'deny', 400],
    ['loopback', '127.0.0.1', 8080, 'deny', 400],
    ['the HBONE port itself (a loop)', '10.0.0.5', 15008, 'deny', 503],
    ['the admin port', '10.0.0.5', 15020, 'deny', 503],
    ['the captured-outbound port', '10.0.0.5', 15001, 'deny', 503],
  ] as const)('%s → %s %s', (_name, address, port, kind, status) => {
    const d = decideAuthority({ ...facts, authority: { address, port } });
    expect(d.kind).toBe(kind);
    if (d.kind === 'deny') expect(d.status).toBe(status);
  });
});
