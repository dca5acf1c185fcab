import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CA_FILES, CERT_FILES } from '../cert-files.js';
import type { TestPki } from './pki.js';

/**
 * A certificate no Switchyard CA would issue, signed by the test PKI's `cluster.local` CA with
 * openssl (an independent tool): a hostile peer's, carrying these URI SANs in this order
 * (e.g. two SPIFFE IDs, the allowed one first). Returns a certificate directory.
 */
export async function issueCrafted(pki: TestPki, name: string, uris: string[]): Promise<string> {
  const ca = join(pki.root, 'ca-cluster');
  const dir = join(pki.root, name);
  await mkdir(dir, { recursive: true });
  const ext = join(dir, 'ext.cnf');
  await writeFile(
    ext,
    `subjectAltName=${uris.map((u) => `URI:${u}`).join(',')}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n`,
  );
  const key = join(dir, CERT_FILES.key);
  const csr = join(dir, 'req.csr');
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'ec.pem'));
  run('pkcs8', '-topk8', '-nocrypt', '-in', join(dir, 'ec.pem'), '-out', key);
  run('req', '-new', '-key', key, '-subj', `/O=cluster.local/CN=${name}`, '-out', csr);
  run(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(ca, CA_FILES.cert),
    '-CAkey',
    join(ca, CA_FILES.key),
    '-set_serial',
    '4242',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    join(dir, CERT_FILES.chain),
  );
  await copyFile(join(ca, CA_FILES.cert), join(dir, CERT_FILES.bundle));
  return dir;
}
