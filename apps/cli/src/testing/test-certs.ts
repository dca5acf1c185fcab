import { join } from 'node:path';
import { cli } from './run-cli.js';

/**
 * A CA in `dir/ca` (trust domain `cluster.local`) and a certificate directory `dir/certs` for
 * `web/api`, made with the CLI itself; returns the certificate directory.
 *
 * @throws Error when either command fails (its standard error).
 */
export async function issueTestCerts(dir: string): Promise<string> {
  const ca = join(dir, 'ca');
  const certs = join(dir, 'certs');
  for (const args of [
    ['ca', 'init', '--dir', ca, '--trust-domain', 'cluster.local'],
    ['ca', 'issue', '--dir', ca, '--namespace', 'web', '--service-account', 'api', '--out', certs],
  ]) {
    const r = await cli(...args);
    if (r.code !== 0) throw new Error(`switchyard ${args.join(' ')}: ${r.stderr}`);
  }
  return certs;
}
