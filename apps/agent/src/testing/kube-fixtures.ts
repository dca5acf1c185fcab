import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A pod object as the API server holds it. */
export function podObject(o: {
  name: string;
  namespace: string;
  node: string;
  ip?: string;
  containerId?: string;
  serviceAccount?: string;
  labels?: Record<string, string>;
  probePort?: number;
  uid?: string;
  /** Default `Running`; `Pending` for a pod whose sandbox is being made. */
  phase?: string;
}) {
  return {
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: o.labels ?? {},
      ...(o.uid ? { uid: o.uid } : {}),
    },
    spec: {
      nodeName: o.node,
      serviceAccountName: o.serviceAccount ?? 'default',
      containers: [
        {
          name: 'app',
          image: 'app',
          ...(o.probePort ? { readinessProbe: { httpGet: { path: '/', port: o.probePort } } } : {}),
        },
      ],
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      containerStatuses: o.containerId
        ? [
            {
              name: 'app',
              ready: true,
              restartCount: 0,
              image: 'app',
              imageID: 'app',
              containerID: `containerd://${o.containerId}`,
            },
          ]
        : [],
    },
  };
}

/** A namespace object, with labels. */
export function namespaceObject(name: string, labels: Record<string, string> = {}) {
  return { metadata: { name, labels } };
}

/** Writes a kubeconfig pointing at `server` (no credentials) and returns its path. */
export function writeKubeconfig(dir: string, server: string): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // The fake speaks plain HTTP on loopback, which clients accept only with TLS checks off.
      clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'agent', user: {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'agent', namespace: 'default' } }],
      'current-context': 'fake',
    }),
  );
  return path;
}

/**
 * Debian's kubectl (package kubernetes-client): installed, or unpacked by scripts/system-deps.sh
 * where another kubectl package owns /usr/bin/kubectl. Undefined when neither is there.
 */
export function debianKubectl(): string | undefined {
  if (existsSync('/opt/debian-kubernetes-client/usr/bin/kubectl'))
    return '/opt/debian-kubernetes-client/usr/bin/kubectl';
  try {
    const status = execFileSync('dpkg-query', ['-W', `-f=\${Status}`, 'kubernetes-client'], {
      encoding: 'utf8',
    });
    return status.includes('ok installed') ? '/usr/bin/kubectl' : undefined;
  } catch {
    return undefined;
  }
}

/** A Service object: ClusterIP (or `None` for a headless one) and TCP ports. */
export function serviceObject(o: {
  name: string;
  namespace: string;
  clusterIP: string;
  ports: { name?: string; port: number; targetPort?: number | string }[];
}) {
  return {
    metadata: { name: o.name, namespace: o.namespace, labels: {} },
    spec: {
      type: 'ClusterIP',
      clusterIP: o.clusterIP,
      clusterIPs: [o.clusterIP],
      selector: { app: o.name },
      ports: o.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        protocol: 'TCP',
        port: p.port,
        targetPort: p.targetPort ?? p.port,
      })),
    },
    status: { loadBalancer: {} },
  };
}

/** One endpoint of an EndpointSlice fixture. */
export interface SliceEndpoint {
  ip: string;
  pod?: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** An EndpointSlice (discovery.k8s.io/v1) of a Service, as the EndpointSlice controller writes it. */
export function endpointSliceObject(o: {
  name: string;
  namespace: string;
  service: string;
  ports: { name?: string; port: number }[];
  endpoints: SliceEndpoint[];
  addressType?: 'IPv4' | 'IPv6';
}) {
  return {
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: {
        'kubernetes.io/service-name': o.service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: o.addressType ?? 'IPv4',
    endpoints: o.endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ready: e.ready ?? true,
        serving: e.serving ?? e.ready ?? true,
        terminating: e.terminating ?? false,
      },
      ...(e.pod ? { targetRef: { kind: 'Pod', namespace: o.namespace, name: e.pod } } : {}),
      ...(e.node ? { nodeName: e.node } : {}),
    })),
    ports: o.ports.map((p) => ({ name: p.name ?? '', protocol: 'TCP', port: p.port })),
  };
}
