// The Linux DaemonSet's install-cni container agrees with the installer and the plugin: it mounts
// the host's CNI dirs where its flags point, the agent serves the socket the entry names on a host
// path, and the binary it copies is where the image build puts it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CNI_INSTALL_DEFAULTS } from './install.js';
import { DEFAULT_AGENT_SOCKET } from './protocol.js';

const deploy = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, read field by field.
type Doc = Record<string, any>;
const [daemonSet] = parseAllDocuments(readFileSync(join(deploy, 'daemonset-linux.yaml'), 'utf8')).map(
  (d) => d.toJS() as Doc,
) as [Doc];
const pod = daemonSet.spec.template.spec;
const installer = pod.containers.find((c: Doc) => c.name === 'install-cni') as Doc;
const flag = (name: string) =>
  (installer.args as string[]).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const hostPathAt = (container: Doc, mountPath: string) => {
  const mount = container.volumeMounts.find((m: Doc) => m.mountPath === mountPath);
  return pod.volumes.find((v: Doc) => v.name === mount?.name)?.hostPath?.path;
};

describe('deploy/kubernetes/daemonset-linux.yaml: install-cni', () => {
  it('runs the installer in watch mode on the host CNI dirs', () => {
    expect(installer.args.slice(0, 2)).toEqual(['install-cni', '--watch']);
    // An upgrade must not take the entry off: new pods would start uncaptured until the next agent.
    expect(installer.args).toContain('--keep-on-stop');
    expect(hostPathAt(installer, flag('cni-bin-dir') as string)).toBe(CNI_INSTALL_DEFAULTS.binDir);
    expect(hostPathAt(installer, flag('cni-conf-dir') as string)).toBe(CNI_INSTALL_DEFAULTS.confDir);
    expect(installer.securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });

  it('names the socket the agent serves on the host, and passes its own namespace through', () => {
    expect(flag('agent-socket')).toBe(DEFAULT_AGENT_SOCKET);
    const agent = pod.containers[0] as Doc;
    expect(hostPathAt(agent, dirname(DEFAULT_AGENT_SOCKET))).toBe(dirname(DEFAULT_AGENT_SOCKET));
    expect(flag('exclude-namespaces')?.split(',')).toEqual([...CNI_INSTALL_DEFAULTS.excludeNamespaces]);
    expect(CNI_INSTALL_DEFAULTS.excludeNamespaces).toContain(daemonSet.metadata.namespace);
  });

  it('copies the binary the image build makes', () => {
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain("buildNative({ outDir: '/out/bin' })");
    expect(dockerfile).toContain('COPY --from=build /out /opt/switchyard-agent');
    expect(flag('binary')).toBe('/opt/switchyard-agent/bin/switchyard-cni');
    expect(installer.image).toBe(pod.containers[0].image);
  });
});
