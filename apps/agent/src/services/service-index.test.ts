import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { endpointSliceObject, type SliceEndpoint, serviceObject } from '../testing/kube-fixtures.js';
import { podIndexOf, type TestPod } from '../testing/pod-index-fixtures.js';
import { compactService, compactSlice } from './compact.js';
import { buildIndex, type PodOwners, vipKey } from './service-index.js';

const TD = 'cluster.local';
const pod = (name: string, sa: string, ip: string, inMesh = true): [string, TestPod] => [
  ip,
  { namespace: 'web', pod: name, serviceAccount: sa, inMesh },
];
const PEERS = [
  pod('a', 'api', '10.0.0.1'),
  pod('b', 'api', '10.0.0.2'),
  pod('c', 'other', '10.0.0.3'),
  pod('x', 'legacy', '10.0.0.9', false),
];
const PODS = podIndexOf(PEERS);

/** The endpoints the index holds for VIP:port, as `ip:port sa state`. */
function resolve(
  services: object[],
  slices: object[],
  vip: string,
  port: number,
  pods: PodOwners = PODS,
): string[] | undefined {
  const bySvc = new Map<string, ReturnType<typeof compactSlice>[]>();
  for (const s of slices.map((o) => compactSlice(o as V1EndpointSlice))) {
    if (!s) continue;
    const key = `${s.namespace}/${s.service}`;
    bySvc.set(key, [...(bySvc.get(key) ?? []), s]);
  }
  const index = buildIndex({
    services: services.map((o) => compactService(o as V1Service)).filter((s) => s !== undefined),
    slices: bySvc as never,
    pods,
    trustDomain: TD,
  });
  return index
    .get(vipKey(vip, port))
    ?.endpoints.map(
      (e) =>
        `${e.address}:${e.port} ${e.identities.join(',').replace(`spiffe://${TD}/ns/web/sa/`, '')} ${e.state}`,
    );
}

const svc = (
  ports = [{ name: 'http', port: 80, targetPort: 8080 as number | string }],
  clusterIP = '10.96.0.10',
) => serviceObject({ name: 'api', namespace: 'web', clusterIP, ports });
const slice = (endpoints: SliceEndpoint[], ports = [{ name: 'http', port: 8080 }], name = 'api-1') =>
  endpointSliceObject({ name, namespace: 'web', service: 'api', ports, endpoints });

describe('the service index (ClusterIP:port → endpoints)', () => {
  it.each([
    [
      'ready endpoints, each with its pod’s identity',
      [
        slice([
          { ip: '10.0.0.1', pod: 'a' },
          { ip: '10.0.0.2', pod: 'b' },
        ]),
      ],
      ['10.0.0.1:8080 api mesh', '10.0.0.2:8080 api mesh'],
    ],
    [
      'a not-ready endpoint is left out',
      [
        slice([
          { ip: '10.0.0.1', pod: 'a' },
          { ip: '10.0.0.2', pod: 'b', ready: false },
        ]),
      ],
      ['10.0.0.1:8080 api mesh'],
    ],
    [
      'unset conditions count as ready',
      [
        {
          ...slice([{ ip: '10.0.0.1', pod: 'a' }]),
          endpoints: [
            {
              addresses: ['10.0.0.1'],
              conditions: {},
              targetRef: { kind: 'Pod', namespace: 'web', name: 'a' },
            },
          ],
        },
      ],
      ['10.0.0.1:8080 api mesh'],
    ],
    [
      'terminating and serving, while another is ready: only the ready one',
      [
        slice([
          { ip: '10.0.0.1', pod: 'a' },
          { ip: '10.0.0.2', pod: 'b', ready: false, serving: true, terminating: true },
        ]),
      ],
      ['10.0.0.1:8080 api mesh'],
    ],
    [
      'nothing ready: the ones still serving while they terminate',
      [
        slice([
          { ip: '10.0.0.1', pod: 'a', ready: false, serving: true, terminating: true },
          { ip: '10.0.0.2', pod: 'b', ready: false, serving: false, terminating: true },
        ]),
      ],
      ['10.0.0.1:8080 api mesh'],
    ],
    [
      'a pod outside the mesh: no identity claimed for it beyond its own, not in the mesh',
      [slice([{ ip: '10.0.0.9', pod: 'x' }])],
      ['10.0.0.9:8080 legacy plain'],
    ],
    [
      'no targetRef (a hand-made slice): nothing pinned, unverified (never taken for a plain pod)',
      [slice([{ ip: '10.0.0.5' }])],
      ['10.0.0.5:8080  unverified'],
    ],
    [
      'a targetRef whose pod no longer holds the address: nothing pinned, unverified',
      [slice([{ ip: '10.0.0.7', pod: 'a' }])],
      ['10.0.0.7:8080  unverified'],
    ],
    [
      'two slices of one Service are merged',
      [slice([{ ip: '10.0.0.1', pod: 'a' }]), slice([{ ip: '10.0.0.3', pod: 'c' }], undefined, 'api-2')],
      ['10.0.0.1:8080 api mesh', '10.0.0.3:8080 other mesh'],
    ],
    ['no slice yet: a Service with no endpoint', [], []],
  ] as const)('%s', (_name, slices, expected) => {
    expect(resolve([svc()], slices as unknown as object[], '10.96.0.10', 80)).toEqual(expected);
  });

  it('a named target port resolves per endpoint, from each slice’s port of that Service port name', () => {
    const services = [svc([{ name: 'http', port: 80, targetPort: 'web' }])];
    const slices = [
      slice([{ ip: '10.0.0.1', pod: 'a' }], [{ name: 'http', port: 8080 }]),
      slice([{ ip: '10.0.0.2', pod: 'b' }], [{ name: 'http', port: 9090 }], 'api-2'),
      slice([{ ip: '10.0.0.3', pod: 'c' }], [{ name: 'metrics', port: 9100 }], 'api-3'),
    ];
    expect(resolve(services, slices, '10.96.0.10', 80)).toEqual([
      '10.0.0.1:8080 api mesh',
      '10.0.0.2:9090 api mesh',
    ]);
  });

  it('several ports: each ClusterIP:port has its own target', () => {
    const services = [
      svc([
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'grpc', port: 81, targetPort: 9000 },
      ]),
    ];
    const slices = [
      slice(
        [{ ip: '10.0.0.1', pod: 'a' }],
        [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 9000 },
        ],
      ),
    ];
    expect(resolve(services, slices, '10.96.0.10', 80)).toEqual(['10.0.0.1:8080 api mesh']);
    expect(resolve(services, slices, '10.96.0.10', 81)).toEqual(['10.0.0.1:9000 api mesh']);
    expect(resolve(services, slices, '10.96.0.10', 82)).toBeUndefined();
  });

  it('a headless Service has no address in the index: its pods are reached as before', () => {
    const slices = [slice([{ ip: '10.0.0.1', pod: 'a' }])];
    expect(resolve([svc(undefined, 'None')], slices, 'None', 80)).toBeUndefined();
    expect(resolve([svc(undefined, 'None')], slices, '10.0.0.1', 8080)).toBeUndefined();
  });

  it('UDP ports and slices of no Service are ignored; any spelling of an IPv6 ClusterIP finds it', () => {
    const udp = serviceObject({
      name: 'api',
      namespace: 'web',
      clusterIP: 'fd00:96::a',
      ports: [{ name: 'http', port: 80 }],
    });
    (udp.spec.ports as { protocol: string }[]).push({
      protocol: 'UDP',
      ...{ name: 'dns', port: 53 },
    } as never);
    const orphan = {
      ...slice([{ ip: '10.0.0.2', pod: 'b' }]),
      metadata: { name: 'o', namespace: 'web', labels: {} },
    };
    const v6 = {
      ...slice([{ ip: 'fd00::1', pod: 'v6' }], [{ name: 'http', port: 80 }]),
      addressType: 'IPv6',
    };
    const slices = [v6, orphan];
    const pods = podIndexOf([...PEERS, pod('v6', 'api', 'fd00::1')]);
    expect(resolve([udp], slices, 'fd00:96:0::a', 80, pods)).toEqual(['fd00::1:80 api mesh']);
    expect(resolve([udp], slices, 'fd00:96::a', 53)).toBeUndefined();
  });

  it('a dual-stack Service: each ClusterIP takes only the slices of its own family', () => {
    const dual = svc();
    dual.spec.clusterIPs = ['10.96.0.10', 'fd00:96::a'];
    const slices = [
      slice([{ ip: '10.0.0.1', pod: 'a' }]),
      { ...slice([{ ip: 'fd00::1', pod: 'v6' }], undefined, 'api-v6'), addressType: 'IPv6' },
    ];
    const pods = podIndexOf([...PEERS, pod('v6', 'api', 'fd00::1')]);
    expect(resolve([dual], slices, '10.96.0.10', 80, pods)).toEqual(['10.0.0.1:8080 api mesh']);
    expect(resolve([dual], slices, 'fd00:96::a', 80, pods)).toEqual(['fd00::1:8080 api mesh']);
  });

  it('an endpoint listed by two slices (a move between them) is one endpoint', () => {
    const slices = [
      slice([{ ip: '10.0.0.1', pod: 'a' }]),
      slice(
        [
          { ip: '10.0.0.1', pod: 'a' },
          { ip: '10.0.0.2', pod: 'b' },
        ],
        undefined,
        'api-2',
      ),
    ];
    expect(resolve([svc()], slices, '10.96.0.10', 80)).toEqual([
      '10.0.0.1:8080 api mesh',
      '10.0.0.2:8080 api mesh',
    ]);
  });
});
