import { describe, expect, it } from 'vitest';
import { parseGateway, parseSniRoute } from './hbone-flags.js';

describe('proxy hbone flags', () => {
  it('parses SNI routes, defaulting the peer to the destination on 15008', () => {
    expect(parseSniRoute('API.web=10.0.0.7:8443')).toEqual([
      'api.web',
      { destination: { address: '10.0.0.7', port: 8443 }, peer: { address: '10.0.0.7', port: 15008 } },
    ]);
    expect(parseSniRoute('db=[fd00::9]:5432@[fd00::1]:15008')).toEqual([
      'db',
      { destination: { address: 'fd00::9', port: 5432 }, peer: { address: 'fd00::1', port: 15008 } },
    ]);
  });

  it('refuses malformed routes and gateways with the expected form', () => {
    expect(() => parseSniRoute('api.web')).toThrow(/NAME=DEST_IP:PORT\[@PEER_IP:PORT\]/);
    expect(() => parseSniRoute('api=web.example:80')).toThrow(/IP address and port/);
    expect(() => parseGateway('gateway:15009')).toThrow(/--reverse-gateway gateway:15009/);
    expect(parseGateway('192.0.2.1:15009')).toEqual({ address: '192.0.2.1', port: 15009 });
  });
});
