import { createPrivateKey, X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputInvalidError } from '@switchyard/core';
import { CERT_FILES } from './cert-files.js';
import { parseSpiffeId, spiffeIdsFromSan } from './spiffe-id.js';

/** A workload's certificate material, checked to belong together. */
export interface WorkloadCertificate {
  /** Certificate chain PEM (leaf first). */
  chain: string;
  /** Private key PEM. Never logged. */
  key: string;
  /** Trust bundle PEM. */
  bundle: string;
  /** The leaf's SPIFFE ID. */
  spiffeId: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

async function readPart(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    throw new InputInvalidError(
      `cannot read ${join(dir, file)}; a certificate directory holds ${Object.values(CERT_FILES).join(', ')} (make one with "switchyard ca issue --out ${dir}")`,
      { cause },
    );
  }
}

/**
 * Reads and checks a certificate directory: the key matches the leaf, the leaf carries exactly one
 * SPIFFE workload ID, it is issued by a certificate in the bundle, and it has not expired.
 *
 * @throws InputInvalidError naming the file and what is wrong.
 */
export async function loadCertificateDir(dir: string, now = Date.now()): Promise<WorkloadCertificate> {
  const [chain, key, bundle] = await Promise.all([
    readPart(dir, CERT_FILES.chain),
    readPart(dir, CERT_FILES.key),
    readPart(dir, CERT_FILES.bundle),
  ]);
  let leaf: X509Certificate;
  let roots: X509Certificate[];
  try {
    leaf = new X509Certificate(chain);
    roots = (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
      (p) => new X509Certificate(p),
    );
  } catch (cause) {
    throw new InputInvalidError(
      `${dir}: ${CERT_FILES.chain} or ${CERT_FILES.bundle} is not a PEM certificate`,
      { cause },
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (cause) {
    throw new InputInvalidError(`${join(dir, CERT_FILES.key)} is not a PEM private key`, { cause });
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new InputInvalidError(
      `${join(dir, CERT_FILES.key)} does not belong to ${join(dir, CERT_FILES.chain)}; reissue both together`,
    );
  }
  const ids = spiffeIdsFromSan(leaf.subjectAltName);
  const spiffeId = ids[0];
  if (ids.length !== 1 || spiffeId === undefined || !parseSpiffeId(spiffeId)) {
    throw new InputInvalidError(
      `${join(dir, CERT_FILES.chain)} must carry exactly one SPIFFE workload ID (spiffe://DOMAIN/ns/NS/sa/SA) in its URI SAN; it has ${ids.length === 0 ? 'none' : ids.join(', ')}`,
    );
  }
  const intermediates = (chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .slice(1)
    .map((p) => new X509Certificate(p));
  const issuers = [...intermediates, ...roots];
  if (roots.length === 0 || !issuers.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) {
    throw new InputInvalidError(
      `${join(dir, CERT_FILES.chain)} was not issued by a certificate in ${join(dir, CERT_FILES.bundle)}`,
    );
  }
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() <= now) {
    throw new InputInvalidError(
      `${join(dir, CERT_FILES.chain)} expired at ${notAfter.toISOString()}; issue a new certificate`,
    );
  }
  return {
    chain,
    key,
    bundle,
    spiffeId,
    serialNumber: leaf.serialNumber,
    notBefore: new Date(leaf.validFrom),
    notAfter,
  };
}

/** Options of {@link CertificateStore.open}. */
export interface CertificateStoreOptions {
  /** Watch the directory and reload on change. Default true. */
  watch?: boolean;
  /** Warn (`expiring` event) when less than this fraction of the validity remains. Default 1/3. */
  expiryWarningFraction?: number;
}

/** Events of a {@link CertificateStore}. */
export interface CertificateStoreEvents {
  /** New material was loaded; connections opened from now on use it. */
  rotated: [WorkloadCertificate];
  /** The current certificate is close to expiry and has not been replaced. */
  expiring: [WorkloadCertificate, number];
  /** A change could not be loaded; the previous material stays in use. */
  error: [Error];
}

/**
 * The workload's certificate, read from a directory and reloaded when its files change (as a
 * mounted Kubernetes secret does), so proxies rotate without dropping connections: open
 * connections keep the session they have, new ones get the new certificate.
 */
export class CertificateStore extends EventEmitter<CertificateStoreEvents> {
  #current: WorkloadCertificate;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  readonly #fraction: number;

  private constructor(
    readonly dir: string,
    first: WorkloadCertificate,
    options: CertificateStoreOptions,
  ) {
    super();
    this.#current = first;
    this.#fraction = options.expiryWarningFraction ?? 1 / 3;
    if (options.watch !== false) {
      this.#watcher = watch(dir, () => this.#scheduleReload());
      this.#watcher.unref();
    }
    this.#armExpiry();
  }

  /** Loads the directory (failing if it is unusable) and starts watching it. */
  static async open(dir: string, options: CertificateStoreOptions = {}): Promise<CertificateStore> {
    return new CertificateStore(dir, await loadCertificateDir(dir), options);
  }

  /** The material in use now. */
  get current(): WorkloadCertificate {
    return this.#current;
  }

  /** Reloads now; on failure keeps the current material and emits `error`. Resolves true when it changed. */
  async reload(): Promise<boolean> {
    try {
      const next = await loadCertificateDir(this.dir);
      if (next.serialNumber === this.#current.serialNumber && next.chain === this.#current.chain)
        return false;
      this.#current = next;
      this.#armExpiry();
      this.emit('rotated', next);
      return true;
    } catch (error) {
      // Files are often replaced one by one; a half-written pair is retried on the next change.
      if (this.listenerCount('error') > 0) this.emit('error', error as Error);
      return false;
    }
  }

  /** Stops watching. */
  close(): void {
    this.#watcher?.close();
    clearTimeout(this.#debounce);
    clearTimeout(this.#expiryTimer);
  }

  #scheduleReload(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), 50);
    this.#debounce.unref();
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    const { notBefore, notAfter } = this.#current;
    const warnAt = notAfter.getTime() - (notAfter.getTime() - notBefore.getTime()) * this.#fraction;
    const fire = () => this.emit('expiring', this.#current, this.#current.notAfter.getTime() - Date.now());
    // setTimeout holds at most ~24.8 days; a later warning is re-armed when the timer fires.
    const delay = Math.min(Math.max(0, warnAt - Date.now()), 2 ** 31 - 1);
    this.#expiryTimer = setTimeout(() => (Date.now() >= warnAt ? fire() : this.#armExpiry()), delay);
    this.#expiryTimer.unref();
  }
}
