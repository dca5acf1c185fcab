import { createRequire } from 'node:module';
import type { RunningAgent } from '@switchyard/agent';
import { DRIVER_API_VERSION } from '@switchyard/core';
import packageJson from '../../package.json' with { type: 'json' };
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';
import { runningAgentVersion } from './running-agent-version.js';

/** The packages whose versions `switchyard version` reports, as the CLI resolves them. */
export const REPORTED_PACKAGES = [
  '@switchyard/core',
  '@switchyard/mesh',
  '@switchyard/dataplane',
  '@switchyard/mtls-proxy',
  '@switchyard/hbone',
  '@switchyard/cri',
  '@switchyard/driver-tproxy',
  '@switchyard/driver-hns',
  '@switchyard/relay-native',
  '@switchyard/agent',
] as const;

/** What `switchyard version --json` prints. */
export interface VersionReport {
  cli: string;
  /** Package name → version, or `null` when it is not installed (the drivers are optional). */
  packages: Record<string, string | null>;
  node: string;
  openssl: string;
  driverApi: number;
  platform: string;
}

/** What `switchyard version --json` prints: the client's versions and the running agent's. */
export interface VersionWithAgentReport extends VersionReport {
  /** The node agent answering here (asked at its config's admin address), or null. */
  runningAgent: RunningAgent | null;
  /** Why no agent answered (only when `runningAgent` is null). */
  noAnswer?: string;
}

/** Reads the versions, each package's from its own package.json, as Node resolves it from the CLI. */
export function versionReport(): VersionReport {
  const require = createRequire(import.meta.url);
  const packages: Record<string, string | null> = {};
  for (const name of REPORTED_PACKAGES) {
    try {
      packages[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      packages[name] = null;
    }
  }
  return {
    cli: packageJson.version,
    packages,
    node: process.versions.node,
    openssl: process.versions.openssl,
    driverApi: DRIVER_API_VERSION,
    platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * `switchyard version`: the CLI, every Switchyard package, Node, OpenSSL and the driver API
 * version, and, like `istioctl version`, the node agent running here (asked at the admin address
 * of `agentConfig`, by default the agent's own default config); when none answers it says why.
 */
export async function versionCommand(io: CliIo, json: boolean, agentConfig?: string): Promise<number> {
  const { line, ...agent } = await runningAgentVersion(agentConfig);
  const report: VersionWithAgentReport = { ...versionReport(), ...agent };
  if (json) {
    printJson(io, report);
    return EXIT.ok;
  }
  io.stdout(`switchyard ${report.cli}\n`);
  for (const [name, version] of Object.entries(report.packages))
    io.stdout(`  ${name.padEnd(26)} ${version ?? 'not installed'}\n`);
  io.stdout(
    `  node ${report.node}, OpenSSL ${report.openssl}, driver API v${report.driverApi}, ${report.platform}\n`,
  );
  io.stdout(`running agent: ${line}\n`);
  return EXIT.ok;
}
