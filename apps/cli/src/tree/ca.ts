import { DEV_CA_VALIDITY } from '@switchyard/mesh';
import type { Command } from 'commander';
import { caInitCommand, caIssueCommand } from '../commands/ca.js';
import type { CommandContext } from './context.js';

/** `ca init|issue`: the development certificate authority. */
export function addCaCommands(program: Command, { io, done, json }: CommandContext): void {
  const ca = program
    .command('ca')
    .description('a development certificate authority for SPIFFE workload identities');
  ca.command('init')
    .description('create a development CA (ECDSA P-256) for a trust domain')
    .requiredOption('--dir <dir>', 'where to write ca-cert.pem and ca-key.pem (0600)')
    .requiredOption('--trust-domain <domain>', 'the trust domain, e.g. cluster.local')
    .option(
      '--days <days>',
      `validity in whole days, 1-${DEV_CA_VALIDITY.maxCaDays} (default ${DEV_CA_VALIDITY.caDays})`,
    )
    .option('--force', 'replace a CA already in --dir: every certificate it issued stops verifying')
    .action(async (o, cmd: Command) => done(await caInitCommand(o, io, json(cmd))));
  ca.command('issue')
    .description('issue a workload certificate: spiffe://DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT')
    .requiredOption('--dir <dir>', 'the CA directory from "ca init"')
    .requiredOption('--namespace <ns>', 'the workload namespace')
    .requiredOption('--service-account <sa>', 'the workload service account')
    .requiredOption(
      '--out <dir>',
      'where to write cert-chain.pem, key.pem (0600) and root-cert.pem: what --cert-dir reads',
    )
    .option(
      '--hours <hours>',
      `validity in whole hours, at most until the CA expires (default ${DEV_CA_VALIDITY.certificateHours})`,
    )
    .action(async (o, cmd: Command) => done(await caIssueCommand(o, io, json(cmd))));
}
