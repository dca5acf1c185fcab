import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from '@switchyard/driver-tproxy/testing';
import { initCa } from '@switchyard/mesh';
import { freePort } from '@switchyard/test-kit';
import { type AgentProcess, startAgentProcess } from './agent-process.js';

/** A node for agent tests: two namespaces on a veth link, a CA, an agent config and workload file. */
export interface AgentNodeLab {
  lab: Lab;
  dir: string;
  config: string;
  adminPort: number;
  /** Replaces the workload file the way a ConfigMap update does (write, then rename). */
  writeWorkloads(workloads: object[] | string): void;
  /** Starts an agent on this node's config; `env` is added to the process's environment. */
  startAgent(extra?: string[], env?: NodeJS.ProcessEnv): AgentProcess;
  /** Starts an HTTP app in namespace B on :8080 that answers with the address it saw. */
  startApp(): Promise<void>;
  /** Plain HTTP from namespace A's app to B's; resolves with the body. */
  request(ms?: number): string;
  /** The `nft` tables and `ip rule`s in a namespace, and the listening TCP ports. */
  inspect(ns: string): { tables: string[]; rules: number; listening: number[] };
  destroy(): Promise<void>;
}

/** Builds the node; `config` is merged into the agent config (YAML as JSON). */
export async function createAgentNodeLab(config: Record<string, unknown> = {}): Promise<AgentNodeLab> {
  const lab = createLab();
  const dir = mkdtempSync(join(tmpdir(), 'swy-agent-'));
  const adminPort = await freePort();
  await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
  const subnet = `${lab.a.v4.split('.').slice(0, 3).join('.')}.0/24`;
  const agentConfig = {
    identity: { caDir: 'ca' },
    meshCidrs: [subnet],
    families: ['ipv4'],
    stateDir: 'state',
    admin: { port: adminPort },
    drainSeconds: 1,
    retry: { initialMs: 100, maxMs: 400 },
    ...config,
  };
  writeFileSync(join(dir, 'agent.yaml'), JSON.stringify(agentConfig, null, 2));
  const agents: AgentProcess[] = [];
  const apps: ReturnType<typeof spawn>[] = [];
  const node: AgentNodeLab = {
    lab,
    dir,
    config: join(dir, 'agent.yaml'),
    adminPort,
    writeWorkloads(workloads) {
      const text = typeof workloads === 'string' ? workloads : JSON.stringify({ workloads }, null, 2);
      writeFileSync(join(dir, 'workloads.yaml.next'), text);
      renameSync(join(dir, 'workloads.yaml.next'), join(dir, 'workloads.yaml'));
    },
    startAgent(extra = [], env = {}) {
      const agent = startAgentProcess(['--config', join(dir, 'agent.yaml'), ...extra], env);
      agents.push(agent);
      return agent;
    },
    async startApp() {
      const source = `require('node:http').createServer((q, s) => s.end(q.socket.remoteAddress.replace('::ffff:', ''))).listen(8080, () => console.log('up'))`;
      const app = spawn('ip', ['netns', 'exec', lab.b.name, process.execPath, '-e', source], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      apps.push(app);
      await new Promise((resolve) => app.stdout?.once('data', resolve));
    },
    request(ms = 5) {
      return lab.run(lab.a.name, 'curl', '-sS', '--max-time', String(ms), `http://${lab.b.v4}:8080/`);
    },
    inspect(ns) {
      const tables = lab.run(ns, 'nft', 'list', 'tables').trim().split('\n').filter(Boolean);
      const rules = lab.run(ns, 'ip', 'rule', 'list').trim().split('\n').length;
      const ss = lab.run(ns, 'ss', '-Htln').trim().split('\n').filter(Boolean);
      const listening = ss
        .map((l) => Number(/:(\d+)$/.exec(l.split(/\s+/)[3] ?? '')?.[1]))
        .sort((a, b) => a - b);
      return { tables, rules, listening };
    },
    async destroy() {
      for (const a of agents)
        if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
      for (const app of apps) if (app.exitCode === null) app.kill('SIGKILL');
      await Promise.all(agents.map((a) => a.exited));
      lab.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return node;
}

// The one free-port finder and program runner of the repository's tests, where the agent's tests look.
export { freePort, sh } from '@switchyard/test-kit';
