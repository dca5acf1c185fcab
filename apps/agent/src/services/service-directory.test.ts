import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { endpointSliceObject, serviceObject } from '../testing/kube-fixtures.js';
import { changePod, podIndexOf, type TestPod } from '../testing/pod-index-fixtures.js';
import { ServiceDirectory } from './service-directory.js';

const VIP = { address: '10.96.0.10', port: 80 };
const api = serviceObject({
  name: 'api',
  namespace: 'web',
  clusterIP: VIP.address,
  ports: [{ name: 'http', port: 80, targetPort: 8080 }],
}) as V1Service;
const slice = (namespace: string, ip: string) =>
  endpointSliceObject({
    name: `api-${namespace}`,
    namespace,
    service: 'api',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ ip, pod: 'a' }],
  }) as V1EndpointSlice;

describe('ServiceDirectory', () => {
  it('answers not-synced until the first Service list, then what the list says', () => {
    const directory = new ServiceDirectory('cluster.local');
    expect(directory.resolve(VIP)).toEqual({ kind: 'not-synced' });
    expect(directory.resolve({ address: '10.0.0.1', port: 8080 })).toEqual({ kind: 'not-synced' });
    expect(directory.synced).toBe(false);
    directory.replace([], []);
    expect(directory.synced).toBe(true);
    expect(directory.resolve(VIP)).toBeUndefined();
    directory.replace([api], [slice('web', '10.0.0.1')]);
    expect(directory.resolve(VIP)?.kind).toBe('service');
  });

  it('a slice in another namespace labelled with the Service name cannot claim it', () => {
    const directory = new ServiceDirectory('cluster.local');
    directory.pods(
      podIndexOf([
        ['10.0.0.1', { namespace: 'web', serviceAccount: 'api', pod: 'a', inMesh: true }],
        ['10.0.0.66', { namespace: 'evil', serviceAccount: 'api', pod: 'a', inMesh: true }],
      ]),
    );
    directory.replace([api], [slice('evil', '10.0.0.66')]);
    const alone = directory.resolve(VIP);
    expect(alone?.kind === 'service' ? alone.endpoints : alone).toEqual([]);
    directory.replace([api], [slice('evil', '10.0.0.66'), slice('web', '10.0.0.1')]);
    const both = directory.resolve(VIP);
    expect(both?.kind === 'service' ? both.endpoints : both).toEqual([
      {
        address: '10.0.0.1',
        port: 8080,
        identities: ['spiffe://cluster.local/ns/web/sa/api'],
        state: 'mesh',
      },
    ]);
    expect(directory.report('web/api')?.ports[0]?.endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
  });

  it('follows each object: a slice changed, moved to another Service, deleted; a pod re-pinned', () => {
    const directory = new ServiceDirectory('cluster.local');
    const db = serviceObject({
      name: 'db',
      namespace: 'web',
      clusterIP: '10.96.0.11',
      ports: [{ name: 'http', port: 80 }],
    }) as V1Service;
    directory.replace([api, db], []);
    const a = { namespace: 'web', serviceAccount: 'api', pod: 'a', inMesh: true };
    const pods = podIndexOf([['10.0.0.1', a]]);
    directory.pods(pods);
    const endpoints = (address: string) => {
      const d = directory.resolve({ address, port: 80 });
      return d?.kind === 'service'
        ? d.endpoints.map((e) => `${e.address} ${e.identities[0] ?? '-'} ${e.state}`)
        : d;
    };
    directory.upsertSlice(slice('web', '10.0.0.1'));
    expect(endpoints(VIP.address)).toEqual(['10.0.0.1 spiffe://cluster.local/ns/web/sa/api mesh']);
    // The pod's account changes: the Service whose slice names it is re-indexed.
    directory.podsChanged(changePod(pods, { ...a, serviceAccount: 'api-v2' }, '10.0.0.1'));
    expect(endpoints(VIP.address)).toEqual(['10.0.0.1 spiffe://cluster.local/ns/web/sa/api-v2 mesh']);
    // The same slice relabelled to db: it leaves api.
    const moved = endpointSliceObject({
      name: 'api-web',
      namespace: 'web',
      service: 'db',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ ip: '10.0.0.1', pod: 'a' }],
    });
    directory.upsertSlice(moved as V1EndpointSlice);
    expect(endpoints(VIP.address)).toEqual([]);
    expect(endpoints('10.96.0.11')).toHaveLength(1);
    directory.deleteSlice('web/api-web');
    expect(endpoints('10.96.0.11')).toEqual([]);
    directory.deleteService('web/db');
    expect(directory.resolve({ address: '10.96.0.11', port: 80 })).toBeUndefined();
    expect(directory.size).toBe(1);
  });

  it('re-indexing only the Services that name the pods each change touched gives the same index as a fresh directory', () => {
    const step = new ServiceDirectory('cluster.local');
    const slices = [slice('web', '10.0.0.1'), slice('evil', '10.0.0.66')];
    const pods = podIndexOf([]);
    step.replace([api], slices);
    step.pods(pods);
    const fresh = () => {
      const full = new ServiceDirectory('cluster.local');
      full.replace([api], slices);
      full.pods(pods);
      return full;
    };
    const peer = (sa: string, pod = 'a', inMesh = true): TestPod => ({
      namespace: 'web',
      serviceAccount: sa,
      pod,
      inMesh,
    });
    const endpoints = (d: ServiceDirectory) => JSON.stringify(d.resolve(VIP));
    const states: [TestPod, string | undefined][] = [
      [peer('api'), '10.0.0.1'],
      [peer('api-v2'), '10.0.0.1'],
      [peer('api', 'a', false), '10.0.0.1'],
      // Another pod claims the address too: contested, no one's.
      [peer('api', 'b'), '10.0.0.1'],
      [peer('api'), undefined],
      // b alone holds it, but the slice names a: not b's identity.
      [peer('api', 'b'), '10.0.0.1'],
      [peer('api', 'b'), undefined],
      [peer('api'), '10.0.0.1'],
    ];
    const seen = new Set<string>();
    for (const [who, ip] of states) {
      step.podsChanged(changePod(pods, who, ip));
      expect(endpoints(step)).toBe(endpoints(fresh()));
      seen.add(endpoints(step));
    }
    expect(endpoints(step)).toContain('spiffe://cluster.local/ns/web/sa/api');
    // The states were told apart: mesh, other account, plain, unverified.
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });
});
