import { readFile } from 'node:fs/promises';
import type { ProbeProblem, ProbeResult } from '@switchyard/core';
import { ADDON_BUILD_HINT, loadAddon } from './native.js';
import { runCommand } from './run-command.js';
import type { RoutingSettings } from './settings.js';

const CAP_NET_ADMIN = 12n;

async function hasNetAdmin(): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

async function version(program: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await runCommand(program, args);
    return r.code === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : undefined;
  } catch {
    return undefined;
  }
}

/** A throwaway table using every kernel feature the ruleset needs; `nft -c` checks it without committing. */
const FEATURE_CHECK = `table inet switchyard_probe {
  chain p { type filter hook prerouting priority mangle; meta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set 1 accept; meta l4proto tcp tproxy to :1 accept; meta l4proto tcp reject with tcp reset; }
  chain o { type route hook output priority mangle; ct direction reply ct mark 1 meta mark set 1; meta skuid 0 accept; }
}`;

/** Everything the tproxy driver needs on this host, each missing piece with its fix. */
export async function probeHost(settings: RoutingSettings): Promise<ProbeResult> {
  const problems: ProbeProblem[] = [];
  const details: Record<string, string> = {
    tproxyMark: `0x${settings.tproxyMark.toString(16)}`,
    routeTable: String(settings.routeTable),
  };
  if (process.platform !== 'linux') {
    return {
      usable: false,
      problems: [
        { message: `Linux only (this is ${process.platform})`, fix: 'use the hns driver on Windows' },
      ],
      details,
    };
  }
  if (!(await hasNetAdmin())) {
    problems.push({
      message: 'this process lacks CAP_NET_ADMIN',
      fix: 'run as root (sudo), or grant CAP_NET_ADMIN',
    });
  }
  const nft = await version('nft', ['--version']);
  const ip = await version('ip', ['-V']);
  const nsenter = await version('nsenter', ['--version']);
  if (nft) details.nft = nft;
  else problems.push({ message: 'the nft command is not installed', fix: 'apt-get install nftables' });
  if (ip) details.ip = ip;
  else problems.push({ message: 'the ip command is not installed', fix: 'apt-get install iproute2' });
  if (!nsenter)
    problems.push({ message: 'the nsenter command is not installed', fix: 'apt-get install util-linux' });
  try {
    loadAddon();
    details.addon = 'loaded';
  } catch (error) {
    problems.push({
      message: (error as Error).message,
      fix: ADDON_BUILD_HINT,
    });
  }
  if (nft && problems.length === 0) {
    const check = await runCommand('nft', ['-c', '-f', '-'], FEATURE_CHECK);
    if (check.code !== 0) {
      problems.push({
        message: `the kernel refused a TPROXY ruleset: ${check.stderr.trim().split('\n')[0]}`,
        fix: 'load the modules nft_tproxy, nft_socket, nf_tproxy_ipv4/6 (modprobe), or use a kernel built with them',
      });
    }
  }
  return { usable: problems.length === 0, problems, details };
}
