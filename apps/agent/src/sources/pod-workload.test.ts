import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { optedIn, podWorkload } from './pod-workload.js';

const pod = (over: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { name: 'api-7d9f', namespace: 'web', labels: {} },
  spec: {
    serviceAccountName: 'api',
    containers: [
      {
        name: 'app',
        ports: [{ name: 'health', containerPort: 8081 }],
        readinessProbe: { httpGet: { port: 'health' as unknown as number } },
        livenessProbe: { tcpSocket: { port: 9000 as unknown as number } },
        startupProbe: { grpc: { port: 9001 } },
      },
    ],
  },
  status: {
    phase: 'Running',
    podIPs: [{ ip: '10.0.0.7' }],
    containerStatuses: [
      {
        name: 'app',
        containerID: 'containerd://4f2a9c',
        image: '',
        imageID: '',
        ready: true,
        restartCount: 0,
      },
    ],
  },
  ...over,
});
const optIn = { label: 'switchyard.io/capture', value: 'enabled' };

describe('podWorkload', () => {
  it('takes identity from namespace + service account, network from the container, probe ports from the spec', () => {
    expect(podWorkload(pod())).toEqual({
      id: 'web/api-7d9f',
      name: 'api-7d9f',
      namespace: 'web',
      serviceAccount: 'api',
      network: { containerId: '4f2a9c' },
      ips: ['10.0.0.7'],
      probePorts: [8081, 9000, 9001],
      labels: {},
    });
  });

  it.each([
    ['host network', { spec: { hostNetwork: true, containers: [] } }],
    ['no IP yet', { status: { phase: 'Pending', containerStatuses: [] } }],
    ['finished', { status: { phase: 'Succeeded' } }],
  ])('skips a pod with %s', (_why, over) => {
    expect(podWorkload(pod(over as Partial<V1Pod>))).toBeUndefined();
  });
});

describe('optedIn', () => {
  const ns = (value?: string) => ({
    metadata: { name: 'web', labels: value ? { [optIn.label]: value } : {} },
  });
  it.each([
    ['the namespace label', undefined, 'enabled', true],
    ['the pod label', 'enabled', undefined, true],
    ['the pod opting out of an enabled namespace', 'disabled', 'enabled', false],
    ['no label', undefined, undefined, false],
  ])('%s', (_what, podValue, nsValue, expected) => {
    const p = pod({
      metadata: { name: 'a', namespace: 'web', labels: podValue ? { [optIn.label]: podValue } : {} },
    });
    expect(optedIn(p, ns(nsValue), optIn)).toBe(expected);
  });
});
