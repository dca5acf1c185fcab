import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { initCa } from '@switchyard/mesh';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { cli } from './testing/run-cli.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-about-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('switchyard version', () => {
  it('reports the CLI, every package, Node, OpenSSL and the driver API, also as JSON', async () => {
    const r = await cli('version', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      cli: packageJson.version,
      packages: {
        '@switchyard/core': '0.1.0',
        '@switchyard/mesh': '0.1.0',
        '@switchyard/driver-tproxy': '0.1.0',
        '@switchyard/agent': '0.1.0',
        '@switchyard/relay-native': '0.1.0',
      },
      node: process.versions.node,
      openssl: process.versions.openssl,
      driverApi: 1,
    });
    const text = await cli('version');
    expect(text.stdout).toMatch(/^switchyard \d+\.\d+\.\d+\n/);
    expect(text.stdout).toMatch(/driver API v1/);
  });

  it('says when no agent answers, and why, also as JSON', async () => {
    const config = join(scratch, 'silent-agent.yaml');
    await writeFile(config, 'identity: { caDir: ca }\nadmin: { port: 1 }\n');
    const text = await cli('version', '--agent-config', config);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /\nrunning agent: none answers \(no agent answers at http:\/\/127\.0\.0\.1:1\/status .*\)\n$/,
    );
    const json = JSON.parse((await cli('--json', 'version', '--agent-config', config)).stdout);
    expect(json).toMatchObject({ cli: packageJson.version, runningAgent: null });
    expect(json.noAnswer).toMatch(/^no agent answers at http:\/\/127\.0\.0\.1:1\/status/);
    const missing = await cli('version', '--agent-config', join(scratch, 'nowhere.yaml'));
    expect(missing.stdout).toMatch(/\nrunning agent: none answers \(.*nowhere\.yaml.*\)\n$/);
  });

  it('passes a global --json on to the agent (switchyard --json agent …)', async () => {
    const r = await cli('--json', 'agent', 'version', '--config', '/nonexistent/agent.yaml');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ agent: '0.1.0', running: null });
  });
});

/** What bash offers after the words typed so far, through the generated script. */
async function bashOffers(...typed: string[]): Promise<string[]> {
  const script = join(scratch, 'completion.bash');
  await writeFile(script, (await cli('completion', 'bash')).stdout);
  const words = ['switchyard', ...typed].map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _switchyard; echo "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  return out.trim().split(/\s+/).filter(Boolean);
}

/** What a real fish offers after the words typed so far (the last word partial), through the generated script. */
async function fishOffers(typed: string): Promise<string[]> {
  const script = join(scratch, 'completion.fish');
  await writeFile(script, (await cli('completion', 'fish')).stdout);
  const out = execFileSync(
    'fish',
    ['--no-config', '-c', `source ${script}; complete -C 'switchyard ${typed}'`],
    {
      encoding: 'utf8',
      cwd: scratch,
    },
  );
  return out
    .split('\n')
    .map((line) => line.split('\t')[0] ?? '')
    .filter(Boolean);
}

const hasFish = (() => {
  try {
    execFileSync('fish', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'fish is not installed (apt-get install fish)';
  }
})();

describeRequiring(hasFish, 'switchyard completion in a real fish', () => {
  it('completes commands and flags, and files after a flag that takes a value', async () => {
    expect(await fishOffers('redirect ap')).toEqual(['apply']);
    expect(await fishOffers('redirect apply --net')).toEqual(['--netns']);
    await writeFile(join(scratch, 'fish-cert-marker.pem'), '');
    expect(await fishOffers('proxy mtls --cert-dir fish-cert-')).toEqual(['fish-cert-marker.pem']);
  });
});

describe('switchyard completion', () => {
  it('bash completes commands, subcommands and their flags, skipping flag values', async () => {
    expect(await bashOffers('re')).toEqual(['redirect']);
    expect(await bashOffers('redirect', 'ap')).toEqual(['apply']);
    expect(await bashOffers('redirect', 'apply', '--net')).toEqual(['--netns']);
    expect(await bashOffers('--driver-module', 'x', 'proxy', 'hbone', '--sni-')).toEqual([
      '--sni-gateway',
      '--sni-route',
    ]);
  });

  it('after a flag that takes a value offers no flags (the shell completes files), but after an optional one it does', async () => {
    expect(await bashOffers('proxy', 'mtls', '--cert-dir', '')).toEqual([]);
    expect(await bashOffers('agent', 'status', '--config', '')).toEqual([]);
    expect(await bashOffers('redirect', 'apply', '--inbound-port', '--outb')).toEqual(['--outbound-port']);
  });

  it('completes the agent too: switchyard agent … and switchyard-agent, from its own command tree', async () => {
    expect(await bashOffers('agent', 'st')).toEqual(['status']);
    expect(await bashOffers('agent', 'config', '--')).toEqual(['--config', '--json', '--output', '--help']);
    const script = join(scratch, 'completion-agent.bash');
    await writeFile(script, (await cli('completion', 'bash')).stdout);
    const offered = execFileSync(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(switchyard-agent 'lo'); COMP_CWORD=1; _switchyard_agent; echo "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(offered.trim()).toBe('log-level');
  });

  it('writes a PowerShell completer for both programs (Windows nodes), with every path --help shows', async () => {
    const r = await cli('completion', 'powershell');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^# switchyard and switchyard-agent completion for powershell: switchyard completion powershell \| Out-String \| Invoke-Expression\n/,
    );
    expect(r.stdout).toContain("Register-ArgumentCompleter -Native -CommandName 'switchyard' -ScriptBlock {");
    expect(r.stdout).toContain(
      "Register-ArgumentCompleter -Native -CommandName 'switchyard-agent' -ScriptBlock {",
    );
    expect(r.stdout).toContain("    'hns' = @(");
    expect(r.stdout).toContain(
      "    'agent' = @('run', 'status', 'explain', 'check', 'validate', 'version', 'plan', 'config', 'log-level'",
    );
    // Braces balance: the script is whole.
    expect(r.stdout.split('{').length).toBe(r.stdout.split('}').length);
  });

  it('writes zsh and fish scripts and refuses other shells (exit 2)', async () => {
    expect((await cli('completion', 'zsh')).stdout).toMatch(
      /bashcompinit[\s\S]*complete -o default -F _switchyard switchyard/,
    );
    expect((await cli('completion', 'fish')).stdout).toContain(
      "complete -c switchyard -n '__fish_seen_subcommand_from redirect' -a 'plan apply list remove'",
    );
    const bad = await cli('completion', 'tcsh', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/one of bash, zsh, fish, powershell/);
  });
});

describe('SWITCHYARD_* settings and driver options', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  });

  it('takes --driver-module from SWITCHYARD_DRIVER_MODULE', async () => {
    process.env.SWITCHYARD_DRIVER_MODULE = './examples/driver-plugin';
    const r = await cli('drivers', '--json');
    expect(JSON.parse(r.stdout).drivers.map((d: { name: string }) => d.name)).toContain('files');
  });

  it('uses SWITCHYARD_RUNTIME_ENDPOINT only for --container, so --netns commands still run', async () => {
    process.env.SWITCHYARD_RUNTIME_ENDPOINT = 'unix:///nowhere.sock';
    const r = await cli('redirect', 'plan', '--driver', 'memory', '--netns', 'x', '--inbound-port');
    expect(r.stderr).toMatch(/would change x/);
    expect(r.code).toBe(0);
  });

  it('hands --driver-option and --driver-config to the driver it creates, flags winning', async () => {
    const plugin = join(scratch, 'echo.mjs');
    await writeFile(
      plugin,
      `export default { name: 'echo', apiVersion: 1, description: 'echoes its options', create(options) {
  return { name: 'echo', targetKinds: ['netns'], capabilities: { multiplePolicies: false },
    async apply(_t, _p, o) { return { id: 'default', changed: true, dryRun: o?.dryRun === true, artifact: { format: 'json', content: JSON.stringify(options) } }; } };
} };`,
    );
    const config = join(scratch, 'driver.yaml');
    await writeFile(config, 'directory: /var/lib/x\nretries: 2\n');
    const r = await cli(
      '--driver-module',
      plugin,
      '--driver-config',
      config,
      '--driver-option',
      'retries=5',
      '--driver-option',
      'tags=["a"]',
      'redirect',
      'plan',
      '--driver',
      'echo',
      '--netns',
      'n',
      '--inbound-port',
      '--json',
    );
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(JSON.parse(r.stdout).artifact.content)).toEqual({
      directory: '/var/lib/x',
      retries: 5,
      tags: ['a'],
    });
    const bad = await cli('--driver-option', 'novalue', 'drivers');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--driver-option "novalue": write KEY=VALUE/);
  });
});

const notRoot = process.getuid?.() === 0 ? undefined : 'it adds a network namespace (run as root)';

describeRequiring(hasFish ?? notRoot, 'fish completion of --netns', () => {
  const ns = `swy-fish-${process.pid}`;
  beforeAll(() => execFileSync('ip', ['netns', 'add', ns]));
  afterAll(() => execFileSync('ip', ['netns', 'del', ns]));

  it('offers the network namespaces "ip netns" knows', async () => {
    expect(await fishOffers(`redirect apply --netns ${ns.slice(0, -1)}`)).toEqual([ns]);
  });
});

describePrivileged('switchyard completion of --netns', () => {
  const ns = `swy-compl-${process.pid}`;
  beforeAll(() => execFileSync('ip', ['netns', 'add', ns]));
  afterAll(() => execFileSync('ip', ['netns', 'del', ns]));

  it('offers the network namespaces "ip netns" knows', async () => {
    expect(await bashOffers('redirect', 'apply', '--netns', ns)).toEqual([ns]);
    expect(await bashOffers('proxy', 'mtls', '--netns', 'swy-compl-')).toContain(ns);
  });
});

describePrivileged('switchyard version with a node agent running (a real switchyard-agent process)', () => {
  it("prints the running agent's version, pid, node and admin address beside the client's", async () => {
    const dir = join(scratch, 'running-agent');
    await mkdir(dir);
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    const [adminPort, deadApi] = [await freePort(), await freePort()];
    // No Kubernetes API answers: the agent stays starting, and answers /status meanwhile.
    await writeFile(join(dir, 'kubeconfig'), kubeconfig(`http://127.0.0.1:${deadApi}`));
    const config = join(dir, 'agent.yaml');
    await writeFile(
      config,
      JSON.stringify({
        node: 'n-version',
        identity: { caDir: 'ca' },
        stateDir: 'state',
        admin: { port: adminPort },
        meshCidrs: ['10.0.0.0/8'],
        source: { kind: 'kubernetes', kubeconfig: join(dir, 'kubeconfig') },
      }),
    );
    const require = createRequire(import.meta.url);
    const agentPackage = require.resolve('@switchyard/agent/package.json');
    const agentVersion = (require(agentPackage) as { version: string }).version;
    const bin = join(dirname(agentPackage), 'dist/bin.js');
    const agent = spawn(process.execPath, [bin, '--config', config], { stdio: 'ignore' });
    const exited = new Promise((r) => agent.once('exit', r));
    try {
      const admin = `127.0.0.1:${adminPort}`;
      await expect
        .poll(async () => JSON.parse((await cli('--json', 'version', '--agent-config', config)).stdout), {
          timeout: 30_000,
          interval: 250,
        })
        .toMatchObject({
          cli: packageJson.version,
          runningAgent: { version: agentVersion, pid: agent.pid, node: 'n-version', admin },
        });
      const text = await cli('version', '--agent-config', config);
      expect(text.stdout).toMatch(/^switchyard \d+\.\d+\.\d+\n/);
      expect(text.stdout).toContain(
        `\nrunning agent: ${agentVersion}, pid ${agent.pid}, node n-version, admin ${admin}\n`,
      );
    } finally {
      agent.kill('SIGTERM');
      await exited;
    }
  });
});

/** A kubeconfig naming `server` (plain HTTP on loopback, where nothing answers). */
function kubeconfig(server: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'none', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'agent', user: {} }],
    contexts: [{ name: 'none', context: { cluster: 'none', user: 'agent' } }],
    'current-context': 'none',
  });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
