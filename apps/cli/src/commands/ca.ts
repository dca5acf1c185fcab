import { resolve } from 'node:path';
import { initCa, issueWorkloadCertificate } from '@switchyard/mesh';
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

/** `switchyard ca init`: a development CA for a trust domain. */
export async function caInitCommand(
  o: { dir: string; trustDomain: string; days?: string },
  io: CliIo,
  json: boolean,
) {
  const written = await initCa({
    dir: resolve(io.cwd, o.dir),
    trustDomain: o.trustDomain,
    ...(o.days ? { days: Number(o.days) } : {}),
  });
  if (json) printJson(io, { trustDomain: o.trustDomain, ...written });
  else
    io.stdout(
      `development CA for ${o.trustDomain}: ${written.certPath} (key ${written.keyPath}, mode 0600)\n`,
    );
  return EXIT.ok;
}

/** `switchyard ca issue`: a workload certificate in exactly the layout `--cert-dir` reads. */
export async function caIssueCommand(
  o: { dir: string; namespace: string; serviceAccount: string; out: string; hours?: string },
  io: CliIo,
  json: boolean,
) {
  const issued = await issueWorkloadCertificate({
    caDir: resolve(io.cwd, o.dir),
    namespace: o.namespace,
    serviceAccount: o.serviceAccount,
    outDir: resolve(io.cwd, o.out),
    ...(o.hours ? { hours: Number(o.hours) } : {}),
  });
  if (json) printJson(io, issued);
  else
    io.stdout(
      `${issued.spiffeId} → ${issued.dir} (serial ${issued.serialNumber}, valid until ${issued.notAfter.toISOString()})\n`,
    );
  return EXIT.ok;
}
