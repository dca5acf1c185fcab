import type { ApiObject } from './list-watch-server.js';

/** Namespaces the generated cluster spreads over. */
const NAMESPACES = 20;

/** Pod I belongs to app I/10, in the namespace of Service I/10. */
const podNs = (i: number) => `team-${Math.floor(i / 10) % NAMESPACES}`;
const svcNs = (j: number) => `team-${j % NAMESPACES}`;
const podIp = (i: number) => `10.${64 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
const time = '2026-11-02T10:00:00Z';

/**
 * A pod as a real cluster returns it: labels, owner references, managedFields, a container with
 * probes, ports, environment, resources and mounts, and a full status (about 5 KB of JSON), on
 * another node than the agent's.
 */
export function pod(i: number): ApiObject {
  const app = `app-${Math.floor(i / 10)}`;
  const hash = (i * 2_654_435_761).toString(16).slice(-10);
  return {
    metadata: {
      name: `${app}-${hash}-${i}`,
      namespace: podNs(i),
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { app, 'pod-template-hash': hash, version: 'v1', 'app.kubernetes.io/part-of': 'bench' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': time, 'prometheus.io/scrape': 'true' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${app}-${hash}`,
          uid: `rs-${i}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      creationTimestamp: time,
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:generateName': {},
              'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {}, 'f:version': {} },
              'f:ownerReferences': { '.': {}, [`k:{"uid":"rs-${i}"}`]: {} },
            },
            'f:spec': {
              'f:containers': {
                'k:{"name":"app"}': {
                  '.': {},
                  'f:env': {},
                  'f:image': {},
                  'f:livenessProbe': {},
                  'f:ports': {},
                  'f:readinessProbe': {},
                  'f:resources': {},
                },
              },
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:terminationGracePeriodSeconds': {},
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': {},
              'f:containerStatuses': {},
              'f:hostIP': {},
              'f:phase': {},
              'f:podIP': {},
              'f:podIPs': { '.': {}, [`k:{"ip":"${podIp(i)}"}`]: {} },
              'f:startTime': {},
            },
          },
        },
      ],
    },
    spec: {
      nodeName: `node-${i % 100}`,
      serviceAccountName: app,
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'app',
          image: `registry.example.com/bench/${app}:1.4.2`,
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
          livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
          volumeMounts: [
            {
              name: 'kube-api-access',
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
              readOnly: true,
            },
          ],
        },
      ],
      volumes: [
        {
          name: 'kube-api-access',
          projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] },
        },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: `192.168.${Math.floor((i % 100) / 250)}.${(i % 100) + 1}`,
      podIP: podIp(i),
      podIPs: [{ ip: podIp(i) }],
      startTime: time,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: time,
      })),
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          restartCount: 0,
          started: true,
          image: `registry.example.com/bench/${app}:1.4.2`,
          imageID: `registry.example.com/bench/${app}@sha256:${hash.padEnd(64, '0')}`,
          containerID: `containerd://${hash.padEnd(64, 'a')}`,
          state: { running: { startedAt: time } },
        },
      ],
    },
  };
}

/** A namespace with the opt-in label. */
export function namespace(i: number): ApiObject {
  return {
    metadata: { name: `team-${i}`, labels: { 'switchyard.io/capture': 'enabled' }, creationTimestamp: time },
  };
}

/** Service `svc-J` with one ClusterIP and one port. */
export function service(j: number): ApiObject {
  return {
    metadata: { name: `svc-${j}`, namespace: svcNs(j), labels: { app: `app-${j}` }, creationTimestamp: time },
    spec: {
      clusterIP: `10.96.${Math.floor(j / 256)}.${j % 256}`,
      clusterIPs: [`10.96.${Math.floor(j / 256)}.${j % 256}`],
      selector: { app: `app-${j}` },
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }],
      type: 'ClusterIP',
    },
  };
}

/**
 * Service J's one EndpointSlice: 10 endpoints, the pods `10J … 10J+9` (modulo the pod count);
 * `notReady` marks endpoint 0 not ready (the change the benchmark makes).
 */
export function slice(j: number, pods: number, generation = 0, notReady = false): ApiObject {
  return {
    metadata: {
      name: `svc-${j}-abcde`,
      namespace: svcNs(j),
      labels: {
        'kubernetes.io/service-name': `svc-${j}`,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      annotations: {
        'endpoints.kubernetes.io/last-change-trigger-time': time,
        generation: String(generation),
      },
      creationTimestamp: time,
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: 10 }, (_, k) => {
      const i = (j * 10 + k) % pods;
      const p = pod(i);
      return {
        addresses: [podIp(i)],
        conditions: { ready: !(notReady && k === 0), serving: true, terminating: false },
        targetRef: {
          kind: 'Pod',
          name: p.metadata.name,
          namespace: p.metadata.namespace,
          uid: p.metadata.uid,
        },
        nodeName: p.spec?.nodeName,
      };
    }),
  };
}

/** Service J's name as `status --service` takes it. */
export const serviceId = (j: number) => `${svcNs(j)}/svc-${j}`;

/** How many namespaces the cluster has. */
export const NAMESPACE_COUNT = NAMESPACES;
