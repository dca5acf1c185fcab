import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { DriverRegistry } from '@switchyard/core';
import { connectCri } from '@switchyard/cri';
import { inspectCa, loadCertificateDir } from '@switchyard/mesh';
import type { AgentConfig } from '../config/agent-config.js';
import { loadConfig } from '../config/validate-config.js';
import { dockerReachable } from '../docker/docker-reachable.js';
import { kubernetesReachable } from '../sources/kubernetes-reachable.js';

/** One preflight check: what was checked, whether it passed, and the fix when it did not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** True when the agent cannot work while this fails (exit 1). */
  blocking: boolean;
  message: string;
  fix?: string;
}

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
    return [
      fail(
        'config',
        (error as Error).message,
        `correct ${configPath}; "switchyard-agent validate" shows every problem`,
      ),
    ];
  }
  const results: CheckResult[] = [
    pass('config', `${configPath} is valid (source ${config.source.kind}, driver ${config.driver})`),
  ];
  results.push(...(await driverChecks(config)));
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

async function stateDir(dir: string): Promise<CheckResult> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, 2);
    return pass('state directory', `${dir} is writable`);
  } catch (error) {
    return fail(
      'state directory',
      `${dir} is not writable: ${(error as Error).message}`,
      'run as root, or set stateDir to a writable folder',
    );
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
