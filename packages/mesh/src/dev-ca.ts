import { type webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CERT_FILE_MODE,
  InputInvalidError,
  KEY_FILE_MODE,
  quoteInput,
  writeFileAtomic,
} from '@switchyard/core';
import { CA_FILES, CERT_FILES } from './cert-files.js';
import { makeDirectory } from './make-directory.js';
import { checkIdentityParts, formatSpiffeId, type SpiffeId } from './spiffe-id.js';

// ECDSA P-256: signing is roughly an order of magnitude cheaper than RSA-2048, which is what a
// proxy pays on every handshake: measured 1.5x the handshake rate (bench/handshake-rate.mjs). node-forge cannot make EC
// certificates, so the CA uses @peculiar/x509 over WebCrypto.
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

type X509Module = typeof import('@peculiar/x509');
let x509: X509Module | undefined;

/** The certificate library, loaded on first use: it needs a global Reflect polyfill we keep off import. */
async function lib(): Promise<X509Module> {
  if (x509) return x509;
  await import('reflect-metadata');
  const mod = await import('@peculiar/x509');
  mod.cryptoProvider.set(globalThis.crypto);
  x509 = mod;
  return mod;
}

/** Validity limits of the development CA and its certificates, defined once. */
export const DEV_CA_VALIDITY = {
  /** Default CA validity in days. */
  caDays: 365,
  /** Longest CA validity in days (100 years). */
  maxCaDays: 36_500,
  /** Default workload certificate validity in hours. */
  certificateHours: 24,
} as const;

/** A whole number of days or hours within bounds, or an error saying what would be accepted. */
function checkPeriod(what: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    throw new InputInvalidError(
      `${what} ${quoteInput(value)} is not usable; give a whole number from 1 to ${max}`,
    );
  return value;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** Options of {@link initCa}. */
export interface InitCaOptions {
  /** Directory to write `ca-cert.pem` and `ca-key.pem` to (created if missing). */
  dir: string;
  /** The trust domain the CA issues identities in, e.g. `cluster.local`. */
  trustDomain: string;
  /** Validity in whole days, 1 to 36500. Default 365. */
  days?: number;
  /**
   * Replace a CA already in `dir`. Every certificate it issued stops verifying against the new
   * one, so this is refused unless asked for. Default false.
   */
  force?: boolean;
}

/** The CA a directory holds, as far as its certificate tells. */
export interface ExistingCa {
  trustDomain: string | undefined;
  notAfter: Date;
  certPath: string;
}

/** What {@link initCa} wrote, and the CA it replaced (only with `force`). */
export interface InitializedCa {
  certPath: string;
  keyPath: string;
  notAfter: Date;
  replaced?: ExistingCa;
}

const trustDomainOf = (subject: string) => /O=([^,\n]+)/.exec(subject)?.[1]?.trim();

/** The CA in `dir`, if either of its files is there (a lone key is a CA too: it must not be lost). */
async function existingCa(dir: string): Promise<ExistingCa | undefined> {
  const certPath = join(dir, CA_FILES.cert);
  const pem = await readFile(certPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    return '';
  });
  if (pem === undefined) {
    const key = await readFile(join(dir, CA_FILES.key)).catch(() => undefined);
    return key === undefined ? undefined : { trustDomain: undefined, notAfter: new Date(0), certPath };
  }
  try {
    const cert = new X509Certificate(pem);
    return { trustDomain: trustDomainOf(cert.subject), notAfter: new Date(cert.validTo), certPath };
  } catch {
    return { trustDomain: undefined, notAfter: new Date(0), certPath };
  }
}

/**
 * Creates a development CA: a self-signed ECDSA P-256 root whose name carries the trust domain.
 * For development and tests; production meshes mount certificates from their own CA.
 * Everything is checked before anything is written, and each file is replaced atomically.
 *
 * @throws InputInvalidError for a bad trust domain or validity, or when `dir` already holds a CA
 * and `force` is not set.
 */
export async function initCa(options: InitCaOptions): Promise<InitializedCa> {
  checkIdentityParts({ trustDomain: options.trustDomain, namespace: 'x', serviceAccount: 'x' });
  const days = checkPeriod('days', options.days ?? DEV_CA_VALIDITY.caDays, DEV_CA_VALIDITY.maxCaDays);
  const replaced = await existingCa(options.dir);
  if (replaced && !options.force) {
    const what = replaced.trustDomain ? `a development CA for ${replaced.trustDomain}` : 'a development CA';
    throw new InputInvalidError(
      `${options.dir} already holds ${what}; replacing it would make every certificate it issued stop verifying. Choose another directory, or replace it on purpose with force: true (switchyard ca init --force)`,
    );
  }
  const {
    X509CertificateGenerator,
    BasicConstraintsExtension,
    KeyUsagesExtension,
    KeyUsageFlags,
    SubjectKeyIdentifierExtension,
  } = await lib();
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const notAfter = new Date(now + days * 86_400_000);
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=${options.trustDomain}, CN=Switchyard development CA`,
    notBefore: new Date(now - 60_000),
    notAfter,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new BasicConstraintsExtension(true, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await makeDirectory(options.dir, 'the CA');
  const certPath = join(options.dir, CA_FILES.cert);
  const keyPath = join(options.dir, CA_FILES.key);
  await writeFileAtomic(keyPath, await exportKeyPem(keys.privateKey), KEY_FILE_MODE);
  await writeFileAtomic(certPath, `${cert.toString('pem').trim()}\n`, CERT_FILE_MODE);
  return { certPath, keyPath, notAfter, ...(replaced ? { replaced } : {}) };
}

/** Options of {@link issueWorkloadCertificate}. */
export interface IssueOptions {
  /** The CA directory made by {@link initCa}. */
  caDir: string;
  namespace: string;
  serviceAccount: string;
  /** Where to write `cert-chain.pem`, `key.pem` (0600) and `root-cert.pem`: exactly what `--cert-dir` reads. */
  outDir: string;
  /** Validity in whole hours, at most until the CA expires. Default 24 (or the CA's remaining life, if shorter). */
  hours?: number;
  /** Validity in milliseconds, overriding `hours` (tests of expiry). */
  validityMs?: number;
}

/** What {@link issueWorkloadCertificate} wrote. */
export interface IssuedCertificate {
  spiffeId: string;
  serialNumber: string;
  notAfter: Date;
  dir: string;
}

/** A CA directory's certificate and key, read and parsed, with errors that name the file and the fix. */
async function readCa(
  caDir: string,
): Promise<{ caPem: string; caKey: webcrypto.CryptoKey; subject: string; notAfter: Date }> {
  const certPath = join(caDir, CA_FILES.cert);
  const keyPath = join(caDir, CA_FILES.key);
  const read = (path: string) =>
    readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' && path === certPath)
        throw new InputInvalidError(
          `${caDir} holds no development CA; create one with "switchyard ca init --dir ${caDir} --trust-domain DOMAIN"`,
          { cause: e },
        );
      throw new InputInvalidError(
        `cannot read the CA ${path === keyPath ? 'key' : 'certificate'} ${path}: ${e.code ?? e.message}; run as the user that created the CA, or fix the file's permissions`,
        { cause: e },
      );
    });
  const caPem = await read(certPath);
  const keyPem = await read(keyPath);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(caPem);
  } catch (cause) {
    throw new InputInvalidError(
      `${certPath} is not a PEM certificate; recreate the CA with "switchyard ca init --force"`,
      { cause },
    );
  }
  let caKey: webcrypto.CryptoKey;
  try {
    const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    caKey = await crypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
  } catch (cause) {
    throw new InputInvalidError(
      `${keyPath} is not a PKCS#8 ECDSA P-256 key; recreate the CA with "switchyard ca init --force"`,
      { cause },
    );
  }
  return { caPem, caKey, subject: cert.subject, notAfter: new Date(cert.validTo) };
}

/**
 * Reads a CA directory without changing it: its trust domain and expiry, or the reason it cannot
 * issue (no CA, an unreadable or malformed file, expired, no trust domain).
 *
 * @throws InputInvalidError naming the file and the fix.
 */
export async function inspectCa(caDir: string): Promise<{ trustDomain: string; notAfter: Date }> {
  const ca = await readCa(caDir);
  const trustDomain = trustDomainOf(ca.subject);
  if (!trustDomain)
    throw new InputInvalidError(
      `${caDir}/${CA_FILES.cert} names no trust domain (O=…); recreate it with "switchyard ca init --force"`,
    );
  if (ca.notAfter.getTime() <= Date.now())
    throw new InputInvalidError(
      `the CA in ${caDir} expired at ${ca.notAfter.toISOString()}; create a new one with "switchyard ca init --force"`,
    );
  return { trustDomain, notAfter: ca.notAfter };
}

/** When the workload certificate expires: as asked, but never after its CA. */
function workloadNotAfter(options: IssueOptions, caNotAfter: Date, now: number): Date {
  const caLeft = caNotAfter.getTime() - now;
  if (caLeft <= 0)
    throw new InputInvalidError(
      `the CA in ${options.caDir} expired at ${caNotAfter.toISOString()}; create a new one with "switchyard ca init --force"`,
    );
  if (options.validityMs !== undefined) return new Date(now + options.validityMs);
  if (options.hours === undefined)
    return new Date(now + Math.min(DEV_CA_VALIDITY.certificateHours * 3_600_000, caLeft));
  const maxHours = Math.floor(caLeft / 3_600_000);
  if (maxHours < 1)
    throw new InputInvalidError(
      `the CA in ${options.caDir} expires within the hour (${caNotAfter.toISOString()}); create a new one with "switchyard ca init --force"`,
    );
  const hours = checkPeriod('hours', options.hours, Number.MAX_SAFE_INTEGER);
  if (hours > maxHours)
    throw new InputInvalidError(
      `a certificate valid for ${hours} hours would outlive its CA, which expires at ${caNotAfter.toISOString()}; give at most ${maxHours} hours`,
    );
  return new Date(now + hours * 3_600_000);
}

/**
 * Issues a workload certificate with the SPIFFE ID in its URI SAN, usable as TLS client and server.
 * Everything is checked before anything is written; each file is replaced atomically.
 *
 * @throws InputInvalidError naming what is wrong: no CA, an unreadable CA file, a bad identity,
 * or a validity period that is not a whole number of hours within the CA's life.
 */
export async function issueWorkloadCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const ca = await readCa(options.caDir);
  const trustDomain = trustDomainOf(ca.subject);
  if (!trustDomain)
    throw new InputInvalidError(
      `${options.caDir}/${CA_FILES.cert} names no trust domain (O=…); recreate it with "switchyard ca init --force"`,
    );
  const id: SpiffeId = checkIdentityParts({
    trustDomain,
    namespace: options.namespace,
    serviceAccount: options.serviceAccount,
  });
  const now = Date.now();
  const notAfter = workloadNotAfter(options, ca.notAfter, now);
  const spiffeId = formatSpiffeId(id);
  const { cert, keyPem } = await signWorkload(ca, trustDomain, spiffeId, now, notAfter);
  await makeDirectory(options.outDir, 'the certificates');
  // Key first, chain last: a watcher that reloads on the chain's change then sees a matching pair.
  await writeFileAtomic(join(options.outDir, CERT_FILES.key), keyPem, KEY_FILE_MODE);
  await writeFileAtomic(join(options.outDir, CERT_FILES.bundle), ca.caPem, CERT_FILE_MODE);
  await writeFileAtomic(join(options.outDir, CERT_FILES.chain), cert, CERT_FILE_MODE);
  return { spiffeId, serialNumber: new X509Certificate(cert).serialNumber, notAfter, dir: options.outDir };
}

/** Makes and signs the workload key pair and certificate. */
async function signWorkload(
  ca: { caPem: string; caKey: webcrypto.CryptoKey },
  trustDomain: string,
  spiffeId: string,
  now: number,
  notAfter: Date,
): Promise<{ cert: string; keyPem: string }> {
  const x = await lib();
  const caCert = new x.X509Certificate(ca.caPem);
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `O=${trustDomain}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature | x.KeyUsageFlags.keyEncipherment, true),
      new x.ExtendedKeyUsageExtension([x.ExtendedKeyUsage.serverAuth, x.ExtendedKeyUsage.clientAuth]),
      new x.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
      await x.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: `${cert.toString('pem').trim()}\n`, keyPem: await exportKeyPem(keys.privateKey) };
}
