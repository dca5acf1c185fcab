import { resolve } from 'node:path';
import { DEV_CA_VALIDITY, initCa, issueWorkloadCertificate } from '@switchyard/mesh';
import { EXIT } from '../exit-codes.js';
import { wholeNumber } from '../flag-values.js';
import { type CliIo, printJson } from '../io.js';

/** `switchyard ca init`: a development CA for a trust domain; refuses to replace one unless `--force`. */
export async function caInitCommand(
  o: { dir: string; trustDomain: string; days?: string; force?: boolean },
  io: CliIo,
  json: boolean,
) {
  const days = o.days === undefined ? undefined : wholeNumber('--days', o.days, 1, DEV_CA_VALIDITY.maxCaDays);
  const written = await initCa({
    dir: resolve(io.cwd, o.dir),
    trustDomain: o.trustDomain,
    force: o.force === true,
    ...(days !== undefined ? { days } : {}),
  });
  if (json) {
    printJson(io, { trustDomain: o.trustDomain, ...written });
    return EXIT.ok;
  }
  if (written.replaced)
    io.stderr(
      `destroyed the CA in ${o.dir}${written.replaced.trustDomain ? ` (trust domain ${written.replaced.trustDomain})` : ''}: certificates it issued no longer verify; issue them again\n`,
    );
  io.stdout(
    `development CA for ${o.trustDomain}: ${written.certPath} (key ${written.keyPath}, mode 0600), valid until ${written.notAfter.toISOString()}\n`,
  );
  return EXIT.ok;
}

/** `switchyard ca issue`: a workload certificate in exactly the layout `--cert-dir` reads. */
export async function caIssueCommand(
  o: { dir: string; namespace: string; serviceAccount: string; out: string; hours?: string },
  io: CliIo,
  json: boolean,
) {
  const hours =
    o.hours === undefined ? undefined : wholeNumber('--hours', o.hours, 1, DEV_CA_VALIDITY.maxCaDays * 24);
  const issued = await issueWorkloadCertificate({
    caDir: resolve(io.cwd, o.dir),
    namespace: o.namespace,
    serviceAccount: o.serviceAccount,
    outDir: resolve(io.cwd, o.out),
    ...(hours !== undefined ? { hours } : {}),
  });
  if (json) printJson(io, issued);
  else
    io.stdout(
      `${issued.spiffeId} → ${issued.dir} (serial ${issued.serialNumber}, valid until ${issued.notAfter.toISOString()})\n`,
    );
  return EXIT.ok;
}
