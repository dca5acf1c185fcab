import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AGENT_DEFAULTS } from './config/defaults.js';
import { validateConfig } from './config/validate-config.js';

const deploy = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, read field by field.
type Doc = Record<string, any>;
const docs = (file: string): Doc[] => {
  const parsed = parseAllDocuments(readFileSync(join(deploy, file), 'utf8'));
  for (const d of parsed) expect(d.errors, `${file} parses`).toEqual([]);
  return parsed.map((d) => d.toJS() as Doc);
};
const [linux] = docs('daemonset-linux.yaml') as [Doc];
const [windows] = docs('daemonset-windows.yaml') as [Doc];
const [configMap] = docs('configmap.yaml') as [Doc];
const rbac = docs('rbac.yaml');
const pod = (ds: Doc) => ds.spec.template.spec;
const container = (ds: Doc) => pod(ds).containers[0];
const mountOf = (ds: Doc, volume: string) =>
  container(ds).volumeMounts.find((m: Doc) => m.name === volume)?.mountPath;

describe('deploy/kubernetes', () => {
  it('every file parses, and kustomization lists them all', () => {
    const listed = docs('kustomization.yaml')[0]?.resources as string[];
    expect(listed.sort()).toEqual([
      'configmap.yaml',
      'daemonset-linux.yaml',
      'daemonset-windows.yaml',
      'namespace.yaml',
      'rbac.yaml',
    ]);
    for (const file of listed)
      expect(docs(file).every((d) => d.apiVersion && d.kind && d.metadata?.name)).toBe(true);
  });

  it('mounts a config the agent accepts, with the CA where caDir points', () => {
    const text = configMap.data['agent.yaml'];
    const configDir = mountOf(linux, 'config');
    const config = validateConfig(parseAllDocuments(text)[0]?.toJS(), configDir);
    expect(config.source).toEqual({ kind: 'kubernetes', label: AGENT_DEFAULTS.optInLabel });
    expect('caDir' in config.identity && config.identity.caDir).toBe(mountOf(linux, 'ca'));
    expect(config.admin.port).toBe(AGENT_DEFAULTS.admin.port);
    expect(config.bypass).toEqual({ mark: AGENT_DEFAULTS.bypassMark, userSid: AGENT_DEFAULTS.bypassUserSid });
    for (const ds of [linux, windows]) {
      const args = container(ds).args as string[];
      const file = args[args.indexOf('--config') + 1] as string;
      expect(posix.basename(file.replaceAll('\\', '/'))).toBe('agent.yaml');
      expect(file.replaceAll('\\', '/')).toContain(mountOf(ds, 'config'));
      expect(pod(ds).volumes.find((v: Doc) => v.name === 'config').configMap.name).toBe(
        configMap.metadata.name,
      );
    }
  });

  it('Linux: capabilities, host PID, netns and CRI mounts, a state dir that survives restarts, probes on the admin port', () => {
    expect(pod(linux).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod(linux).hostPID).toBe(true);
    expect(container(linux).securityContext.capabilities.add).toEqual(
      expect.arrayContaining(['NET_ADMIN', 'NET_RAW']),
    );
    expect(mountOf(linux, 'netns')).toBe('/var/run/netns');
    expect(mountOf(linux, 'cri')).toBe('/run/containerd/containerd.sock');
    expect(mountOf(linux, 'state')).toBe(AGENT_DEFAULTS.stateDir);
    expect(pod(linux).volumes.find((v: Doc) => v.name === 'state').hostPath.path).toBe(
      AGENT_DEFAULTS.stateDir,
    );
    expectProbes(linux);
  });

  it('Windows: a HostProcess container as SYSTEM, on the host network, bypassing SYSTEM’s SID', () => {
    expect(pod(windows).nodeSelector).toEqual({ 'kubernetes.io/os': 'windows' });
    expect(pod(windows).hostNetwork).toBe(true);
    expect(pod(windows).securityContext.windowsOptions).toEqual({
      hostProcess: true,
      runAsUserName: 'NT AUTHORITY\\SYSTEM',
    });
    expect(configMap.data['agent.yaml']).toMatch(/userSid: S-1-5-18/);
    expectProbes(windows);
  });

  it('RBAC: get, list and watch of pods and namespaces, list and watch of services, endpointslices and Istio security policies, nothing more, for the service account both DaemonSets use', () => {
    const role = rbac.find((d) => d.kind === 'ClusterRole') as Doc;
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      {
        apiGroups: ['security.istio.io'],
        resources: ['authorizationpolicies', 'peerauthentications'],
        verbs: ['list', 'watch'],
      },
    ]);
    const sa = rbac.find((d) => d.kind === 'ServiceAccount') as Doc;
    const binding = rbac.find((d) => d.kind === 'ClusterRoleBinding') as Doc;
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
    ]);
    for (const ds of [linux, windows]) {
      expect(pod(ds).serviceAccountName).toBe(sa.metadata.name);
      expect(ds.metadata.namespace).toBe(sa.metadata.namespace);
    }
  });

  it('the images are the ones the Dockerfiles build, and the Linux image has what the agent runs', () => {
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`-t ${container(linux).image} `);
    expect(readFileSync(join(deploy, 'Dockerfile.windows'), 'utf8')).toContain(
      `-t ${container(windows).image} `,
    );
    expect(dockerfile).toMatch(/apt-get install[^\n]*nftables iproute2 util-linux/);
    expect(dockerfile).toMatch(/FROM node:24/);
    expect(dockerfile).toContain(`EXPOSE ${AGENT_DEFAULTS.admin.port}`);
    expect(dockerfile).toContain('--frozen-lockfile');
  });

  it('both images run the agent with the same V8 young-generation limit (what bench:agent measures)', () => {
    const flag = /^ENV NODE_OPTIONS=(--max-semi-space-size=\d+)$/m.exec(
      readFileSync(join(deploy, 'Dockerfile'), 'utf8'),
    )?.[1];
    expect(flag).toBeDefined();
    expect(readFileSync(join(deploy, 'windows', 'switchyard-agent.cmd'), 'utf8')).toContain(
      `node.exe" ${flag} "%~dp0dist`,
    );
  });
});

function expectProbes(ds: Doc): void {
  const c = container(ds);
  expect(c.ports).toEqual([{ name: 'admin', containerPort: AGENT_DEFAULTS.admin.port, protocol: 'TCP' }]);
  expect(c.readinessProbe.httpGet).toEqual({
    host: AGENT_DEFAULTS.admin.host,
    path: '/readyz',
    port: AGENT_DEFAULTS.admin.port,
  });
  expect(c.livenessProbe.httpGet).toEqual({
    host: AGENT_DEFAULTS.admin.host,
    path: '/healthz',
    port: AGENT_DEFAULTS.admin.port,
  });
}
