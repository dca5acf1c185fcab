import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { endpointSliceObject, serviceObject } from '../testing/kube-fixtures.js';
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
});
