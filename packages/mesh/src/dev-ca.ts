import { type webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputInvalidError } from '@switchyard/core';
import { CA_FILES, CERT_FILES } from './cert-files.js';
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

/** Writes a private key readable by its owner only (0600), whatever the umask. */
async function writeKey(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600);
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
  /** Validity in days. Default 365. */
  days?: number;
}

/**
 * Creates a development CA: a self-signed ECDSA P-256 root whose name carries the trust domain.
 * For development and tests; production meshes mount certificates from their own CA.
 */
export async function initCa(options: InitCaOptions): Promise<{ certPath: string; keyPath: string }> {
  checkIdentityParts({ trustDomain: options.trustDomain, namespace: 'x', serviceAccount: 'x' });
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
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=${options.trustDomain}, CN=Switchyard development CA`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (options.days ?? 365) * 86_400_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new BasicConstraintsExtension(true, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await mkdir(options.dir, { recursive: true });
  const certPath = join(options.dir, CA_FILES.cert);
  const keyPath = join(options.dir, CA_FILES.key);
  await writeFile(certPath, `${cert.toString('pem').trim()}\n`);
  await writeKey(keyPath, await exportKeyPem(keys.privateKey));
  return { certPath, keyPath };
}

/** Options of {@link issueWorkloadCertificate}. */
export interface IssueOptions {
  /** The CA directory made by {@link initCa}. */
  caDir: string;
  namespace: string;
  serviceAccount: string;
  /** Where to write `cert-chain.pem`, `key.pem` (0600) and `root-cert.pem`: exactly what `--cert-dir` reads. */
  outDir: string;
  /** Validity in hours. Default 24. */
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

/** Issues a workload certificate with the SPIFFE ID in its URI SAN, usable as TLS client and server. */
export async function issueWorkloadCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const {
    X509CertificateGenerator,
    X509Certificate: PeculiarCertificate,
    BasicConstraintsExtension,
    KeyUsagesExtension,
    KeyUsageFlags,
    ExtendedKeyUsageExtension,
    ExtendedKeyUsage,
    SubjectAlternativeNameExtension,
    AuthorityKeyIdentifierExtension,
  } = await lib();
  let caPem: string;
  let caKeyPem: string;
  try {
    caPem = await readFile(join(options.caDir, CA_FILES.cert), 'utf8');
    caKeyPem = await readFile(join(options.caDir, CA_FILES.key), 'utf8');
  } catch (cause) {
    throw new InputInvalidError(
      `${options.caDir} holds no development CA; create one with "switchyard ca init --dir ${options.caDir} --trust-domain DOMAIN"`,
      { cause },
    );
  }
  const caCert = new PeculiarCertificate(caPem);
  const trustDomain = /O=([^,]+)/.exec(caCert.subject)?.[1]?.trim();
  if (!trustDomain)
    throw new InputInvalidError(
      `${options.caDir}/${CA_FILES.cert} names no trust domain (O=…); recreate it with "switchyard ca init"`,
    );
  const id: SpiffeId = checkIdentityParts({
    trustDomain,
    namespace: options.namespace,
    serviceAccount: options.serviceAccount,
  });
  const caKey = await crypto.subtle.importKey(
    'pkcs8',
    Buffer.from(caKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'),
    ALGORITHM,
    false,
    ['sign'],
  );
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const spiffeId = formatSpiffeId(id);
  const now = Date.now();
  const notAfter = new Date(now + (options.validityMs ?? (options.hours ?? 24) * 3_600_000));
  const serialNumber = serial();
  const cert = await X509CertificateGenerator.create({
    serialNumber,
    subject: `O=${trustDomain}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
      new SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
      await AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  await mkdir(options.outDir, { recursive: true });
  // Key first, chain last: a watcher that reloads on the chain's change then sees a matching pair.
  await writeKey(join(options.outDir, CERT_FILES.key), await exportKeyPem(keys.privateKey));
  await writeFile(join(options.outDir, CERT_FILES.bundle), caPem);
  await writeFile(join(options.outDir, CERT_FILES.chain), `${cert.toString('pem').trim()}\n`);
  return {
    spiffeId,
    serialNumber: new X509Certificate(cert.toString('pem')).serialNumber,
    notAfter,
    dir: options.outDir,
  };
}
