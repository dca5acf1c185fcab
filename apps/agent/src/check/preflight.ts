import { execFile } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DriverRegistry } from '@switchyard/core';
import { connectCri } from '@switchyard/cri';
import { inspectCa, loadCertificateDir } from '@switchyard/mesh';
import type { AgentConfig } from '../config/agent-config.js';
import { loadConfig } from '../config/validate-config.js';
import type { CheckResult } from './check-result.js';
import { dockerReachable } from './docker-reachable.js';
import { kubernetesReachable } from './kubernetes-reachable.js';

export type { CheckResult } from './check-result.js';

const pass = (name: string, message: string): CheckResult => ({ name, ok: true, blocking: false, message });
const fail = (name: string, message: string, fix: string, blocking = true): CheckResult => ({
  name,
  ok: false,
  blocking,
  message,
  fix,
});

/**
 * `switchyard-agent check` (like `linkerd check`): the config, the driver's own probe (kernel
 * features, capabilities, tools), policy routing, the state directory, the admin port, and —
 * when the config uses them — the container runtime and the Kubernetes API.
 */
export async function preflight(configPath: string): Promise<CheckResult[]> {
  let config: AgentConfig;
  try {
    config = await loadConfig(configPath);
  } catch (error) {
    const absent = await stat(configPath).then(
      () => false,
      () => true,
    );
    return [
      fail(
        'config',
        (error as Error).message,
        absent
          ? `create ${configPath} (docs/agent.md has a first one), or pass --config FILE`
          : `correct ${configPath}; "switchyard-agent validate" shows every problem`,
      ),
    ];
  }
  const results: CheckResult[] = [
    pass('config', `${configPath} is valid (source ${config.source.kind}, driver ${config.driver})`),
  ];
  results.push(meshCidrs(config), ...(await driverChecks(config)));
  if (process.platform === 'linux') results.push(await policyRouting());
  results.push(await identity(config), await stateDir(config.stateDir), await adminPort(config));
  if (config.source.kind === 'kubernetes' || config.criEndpoint) results.push(await runtime(config));
  if (config.source.kind === 'kubernetes') results.push(...(await kubernetesReachable(config)));
  results.push(...(await dockerReachable(config)));
  return results;
}

async function driverChecks(config: AgentConfig): Promise<CheckResult[]> {
  try {
    const driver = await new DriverRegistry({ importModule: (s) => import(s) }).create(config.driver);
    const probe = await driver.probe();
    const detail = Object.entries(probe.details)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    if (probe.usable) return [pass(`driver ${config.driver}`, `usable (${detail})`)];
    return probe.problems.map((p) => fail(`driver ${config.driver}`, p.message, p.fix));
  } catch (error) {
    return [
      fail(
        `driver ${config.driver}`,
        (error as Error).message,
        'set "driver" to tproxy (Linux), hns (Windows) or an installed plugin',
      ),
    ];
  }
}

async function policyRouting(): Promise<CheckResult> {
  try {
    await promisify(execFile)('ip', ['-j', 'rule', 'list']);
    return pass('policy routing', 'ip rule works');
  } catch (error) {
    return fail(
      'policy routing',
      `"ip rule list" failed: ${(error as Error).message.split('\n')[0]}`,
      'install iproute2 and use a kernel with CONFIG_IP_MULTIPLE_TABLES',
    );
  }
}

/**
 * Whether workloads can have their identity: a CA that can issue for the agent's trust domain,
 * or the certificate directories that exist. Without it every workload would be held closed.
 */
async function identity(config: AgentConfig): Promise<CheckResult> {
  const id = config.identity;
  if ('caDir' in id) {
    try {
      const ca = await inspectCa(id.caDir);
      if (ca.trustDomain !== config.trustDomain)
        return fail(
          'identity',
          `the CA in ${id.caDir} issues for trust domain ${ca.trustDomain}, but the agent's is ${config.trustDomain}`,
          `set trustDomain to ${ca.trustDomain}, or create a CA for ${config.trustDomain} ("switchyard ca init --dir ${id.caDir} --trust-domain ${config.trustDomain} --force")`,
        );
      return pass(
        'identity',
        `CA ${id.caDir} issues for ${ca.trustDomain} until ${ca.notAfter.toISOString()}`,
      );
    } catch (error) {
      return fail(
        'identity',
        (error as Error).message,
        `give identity.caDir a CA the agent can read ("switchyard ca init --dir ${id.caDir} --trust-domain ${config.trustDomain}"), or use identity.certDir`,
      );
    }
  }
  const fixed = id.certDir.split('{')[0] ?? '';
  try {
    if (fixed === id.certDir) await loadCertificateDir(id.certDir);
    else await access(fixed.endsWith('/') ? fixed : dirname(fixed), constants.R_OK);
    return pass('identity', `certificates under ${id.certDir}`);
  } catch (error) {
    return fail(
      'identity',
      `no certificates can be read under ${id.certDir}: ${(error as Error).message}`,
      'mount the certificate directories there (cert-chain.pem, key.pem, root-cert.pem each), or set identity.certDir',
    );
  }
}

/** Empty `meshCidrs` carries nothing over the mesh: without passthrough every outbound connection is refused. */
function meshCidrs(config: AgentConfig): CheckResult {
  if (config.meshCidrs.length > 0)
    return pass('mesh addresses', `outbound connections to ${config.meshCidrs.join(', ')} go over the mesh`);
  return config.passthroughOutsideMesh
    ? fail(
        'mesh addresses',
        'meshCidrs is empty: no outbound connection goes over the mesh (all pass through in plain TCP)',
        "set meshCidrs to the cluster's pod CIDR (e.g. [10.244.0.0/16])",
        false,
      )
    : fail(
        'mesh addresses',
        'meshCidrs is empty and passthroughOutsideMesh is false: every outbound connection of every captured workload would be refused',
        "set meshCidrs to the cluster's pod CIDR (e.g. [10.244.0.0/16]), or passthroughOutsideMesh: true",
      );
}

/** Whether the agent can write its state directory; a preflight creates nothing, so a missing one is judged by its parent. */
async function stateDir(dir: string): Promise<CheckResult> {
  const existing = await nearestExisting(dir);
  try {
    await access(existing, constants.W_OK);
    return pass(
      'state directory',
      existing === resolve(dir)
        ? `${dir} is writable`
        : `${dir} does not exist yet; the agent can create it in ${existing}`,
    );
  } catch (error) {
    return fail(
      'state directory',
      `${existing === resolve(dir) ? dir : `${dir} does not exist and ${existing}`} is not writable: ${(error as Error).message}`,
      'run as root, or set stateDir to a writable folder',
    );
  }
}

/** `path`, or its nearest ancestor that exists. */
async function nearestExisting(path: string): Promise<string> {
  let at = resolve(path);
  for (;;) {
    try {
      await stat(at);
      return at;
    } catch {
      const up = dirname(at);
      if (up === at) return at;
      at = up;
    }
  }
}

async function adminPort(config: AgentConfig): Promise<CheckResult> {
  const at = `${config.admin.host}:${config.admin.port}`;
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(config.admin.port, config.admin.host, () => server.close(() => resolve(true)));
  });
  return free
    ? pass('admin port', `${at} is free`)
    : fail(
        'admin port',
        `${at} is taken (an agent already running here, or another program)`,
        'stop it ("switchyard-agent status" shows a running agent), or set admin.port',
        false,
      );
}

async function runtime(config: AgentConfig): Promise<CheckResult> {
  try {
    const cri = await connectCri(
      config.criEndpoint ? { endpoint: config.criEndpoint, timeoutMs: 3000 } : { timeoutMs: 3000 },
    );
    const v = cri.version;
    cri.close();
    return pass(
      'container runtime',
      `${v.runtimeName} ${v.runtimeVersion} (CRI ${v.runtimeApiVersion}) at ${cri.endpoint}`,
    );
  } catch (error) {
    return fail(
      'container runtime',
      (error as Error).message.split('\n')[0] ?? '',
      'start containerd or CRI-O, or set criEndpoint to its socket',
    );
  }
}
