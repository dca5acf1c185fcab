import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxNetworkFromInfo } from './sandbox-network.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'test-fixtures', name), 'utf8'));

describe('sandboxNetworkFromInfo (containerd 1.6 verbose info)', () => {
  it('finds a pod-network sandbox’s namespace path and pid', () => {
    expect(sandboxNetworkFromInfo(fixture('containerd-1.6/podnet-sandbox-info.json'))).toEqual({
      platform: 'linux',
      hostNetwork: false,
      netnsPath: '/var/run/netns/cni-bd3fc096-8072-b3ba-ecc5-1401ec4b2730',
      sandboxPid: 17739,
    });
  });

  it('sees a container’s network through its sandbox process', () => {
    expect(sandboxNetworkFromInfo(fixture('containerd-1.6/podnet-container-info.json'))).toMatchObject({
      hostNetwork: false,
      netnsPath: '/proc/17739/ns/net',
    });
  });

  it('reports host-network sandboxes and containers as such', () => {
    expect(sandboxNetworkFromInfo(fixture('containerd-1.6/hostnet-sandbox-info.json'))).toEqual({
      platform: 'linux',
      hostNetwork: true,
      sandboxPid: 17968,
    });
    expect(sandboxNetworkFromInfo(fixture('containerd-1.6/hostnet-container-info.json')).hostNetwork).toBe(
      true,
    );
  });

  it('reads the HNS namespace GUID of a Windows sandbox', () => {
    expect(sandboxNetworkFromInfo(fixture('windows-sandbox-info.json'))).toEqual({
      platform: 'windows',
      hostNetwork: false,
      hnsNamespace: '0c7f5a3e-2b1d-4f6a-9e8c-1a2b3c4d5e6f',
    });
  });

  it('falls back to /proc/<pid>/ns/net when the network entry has no path', () => {
    const info = { pid: 42, runtimeSpec: { linux: { namespaces: [{ type: 'network' }] } } };
    expect(sandboxNetworkFromInfo(info)).toMatchObject({ netnsPath: '/proc/42/ns/net', hostNetwork: false });
  });
});
