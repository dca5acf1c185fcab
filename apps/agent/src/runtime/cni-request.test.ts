import { describe, expect, it } from 'vitest';
import { checkCniRequest, parseCniArgs, passThrough, resultAddresses } from './cni-request.js';

const prevResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/cni-1' }],
  ips: [
    { address: '10.22.0.7/24', interface: 0, gateway: '10.22.0.1' },
    { address: 'fd00::7/64', interface: 0 },
  ],
};
const request = (over: Record<string, unknown> = {}, config: Record<string, unknown> = {}) => ({
  command: 'ADD',
  containerId: 'abc123',
  netns: '/var/run/netns/cni-1',
  ifName: 'eth0',
  args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=api-0;K8S_POD_UID=u-1',
  config: { cniVersion: '1.0.0', name: 'k8s', type: 'switchyard-cni', prevResult, ...config },
  ...over,
});

describe('CNI requests', () => {
  it('reads the pod from CNI_ARGS, the addresses from prevResult, and passes prevResult through unchanged', () => {
    const r = checkCniRequest(request());
    expect(r).toMatchObject({
      command: 'ADD',
      sandbox: 'abc123',
      pod: { namespace: 'web', name: 'api-0', uid: 'u-1' },
    });
    expect(resultAddresses(r.prevResult)).toEqual(['10.22.0.7', 'fd00::7']);
    expect(JSON.parse(passThrough(r))).toEqual(prevResult);
  });

  it('a sandbox that is no Kubernetes pod has no pod; without prevResult the result is the bare version', () => {
    const r = checkCniRequest(request({ args: '' }, { prevResult: undefined }));
    expect(r.pod).toBeUndefined();
    expect(JSON.parse(passThrough(r))).toEqual({ cniVersion: '1.0.0' });
  });

  it.each([
    [{ command: 'VERSION' }, 4, /CNI_COMMAND must be ADD, DEL or CHECK/],
    [{ containerId: '' }, 4, /CNI_CONTAINERID is missing/],
    [{ netns: 'relative/ns' }, 4, /CNI_NETNS must be an absolute path .* or an HNS namespace GUID/],
    [{ config: { name: 'k8s' } }, 7, /no cniVersion/],
  ])('refuses %j with CNI error code %i and the reason', (over, code, msg) => {
    let thrown: unknown;
    try {
      checkCniRequest(request(over));
    } catch (error) {
      thrown = error;
    }
    expect(typeof thrown).toBe('string');
    expect(JSON.parse(thrown as string)).toMatchObject({ code, msg: expect.stringMatching(msg) });
  });

  it('Windows: CNI_NETNS is the pod’s HNS namespace', () => {
    expect(checkCniRequest(request({ netns: '0C7F5A3E-2B1D-4F6A-9E8C-1A2B3C4D5E6F' })).network).toEqual({
      hnsNamespace: '0c7f5a3e-2b1d-4f6a-9e8c-1a2b3c4d5e6f',
    });
  });

  it('DEL needs no network namespace (the runtime may have removed it already)', () => {
    expect(checkCniRequest(request({ command: 'DEL', netns: '' })).command).toBe('DEL');
  });

  it('parses CNI_ARGS pairs and skips malformed ones', () => {
    expect([...parseCniArgs('A=1;junk;=x;B=two=2')]).toEqual([
      ['A', '1'],
      ['B', 'two=2'],
    ]);
  });
});
