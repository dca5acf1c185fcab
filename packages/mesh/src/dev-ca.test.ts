import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILES, CERT_FILES } from './cert-files.js';
import { CertificateStore, loadCertificateDir } from './cert-store.js';
import { initCa, issueWorkloadCertificate } from './dev-ca.js';

let root: string;
let ca: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-ca-'));
  ca = join(root, 'ca');
  await initCa({ dir: ca, trustDomain: 'cluster.local' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('development CA', () => {
  it('writes an ECDSA P-256 CA whose key only its owner can read', async () => {
    const cert = new X509Certificate(
      await import('node:fs').then((fs) => fs.readFileSync(join(ca, CA_FILES.cert))),
    );
    expect(cert.ca).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect((await stat(join(ca, CA_FILES.key))).mode & 0o777).toBe(0o600);
  });

  it('issues a workload certificate that --cert-dir reads: SPIFFE ID in the URI SAN, key 0600, chained to the bundle', async () => {
    const out = join(root, 'api');
    const issued = await issueWorkloadCertificate({
      caDir: ca,
      namespace: 'web',
      serviceAccount: 'api',
      outDir: out,
    });
    expect(issued.spiffeId).toBe('spiffe://cluster.local/ns/web/sa/api');
    expect((await stat(join(out, CERT_FILES.key))).mode & 0o777).toBe(0o600);
    const loaded = await loadCertificateDir(out);
    expect(loaded).toMatchObject({ spiffeId: issued.spiffeId, serialNumber: issued.serialNumber });
    // PEM files end with a newline, so they concatenate (haproxy wants certificate + key in one file).
    expect(loaded.chain.endsWith('-----\n')).toBe(true);
    expect(loaded.bundle.endsWith('-----\n')).toBe(true);
    const leaf = new X509Certificate(loaded.chain);
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/web/sa/api');
    expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
  });

  it('refuses a directory whose key, bundle or validity is wrong, naming the file', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await issueWorkloadCertificate({ caDir: ca, namespace: 'web', serviceAccount: 'a', outDir: a });
    await issueWorkloadCertificate({ caDir: ca, namespace: 'web', serviceAccount: 'b', outDir: b });
    await copyFile(join(b, CERT_FILES.key), join(a, CERT_FILES.key));
    await expect(loadCertificateDir(a)).rejects.toThrow(/key\.pem does not belong to .*cert-chain\.pem/);

    const otherCa = join(root, 'other-ca');
    await initCa({ dir: otherCa, trustDomain: 'other.local' });
    const c = join(root, 'c');
    await issueWorkloadCertificate({ caDir: ca, namespace: 'web', serviceAccount: 'c', outDir: c });
    await copyFile(join(otherCa, CA_FILES.cert), join(c, CERT_FILES.bundle));
    await expect(loadCertificateDir(c)).rejects.toThrow(
      /was not issued by a certificate in .*root-cert\.pem/,
    );

    const d = join(root, 'd');
    await issueWorkloadCertificate({
      caDir: ca,
      namespace: 'web',
      serviceAccount: 'd',
      outDir: d,
      validityMs: 1000,
    });
    await expect(loadCertificateDir(d, Date.now() + 120_000)).rejects.toThrow(/expired at/);
    await expect(loadCertificateDir(join(root, 'nothing'))).rejects.toThrow(/switchyard ca issue/);
    await expect(
      issueWorkloadCertificate({
        caDir: join(root, 'no-ca'),
        namespace: 'x',
        serviceAccount: 'y',
        outDir: d,
      }),
    ).rejects.toThrow(/switchyard ca init/);
    await expect(
      issueWorkloadCertificate({ caDir: ca, namespace: 'bad/ns', serviceAccount: 'y', outDir: d }),
    ).rejects.toThrow(/namespace "bad\/ns" is not valid/);
  });
});

describe('CertificateStore', () => {
  it('reloads when the files change and keeps the old material while a change is half-written', async () => {
    const dir = join(root, 'rotating');
    const first = await issueWorkloadCertificate({
      caDir: ca,
      namespace: 'web',
      serviceAccount: 'rot',
      outDir: dir,
    });
    const store = await CertificateStore.open(dir);
    const errors: Error[] = [];
    store.on('error', (e) => errors.push(e));
    try {
      expect(store.current.serialNumber).toBe(first.serialNumber);
      const rotated = new Promise<string>((resolve) => store.once('rotated', (c) => resolve(c.serialNumber)));
      const second = await issueWorkloadCertificate({
        caDir: ca,
        namespace: 'web',
        serviceAccount: 'rot',
        outDir: dir,
      });
      expect(await rotated).toBe(second.serialNumber);
      // A broken write leaves the current material in place.
      await writeFile(join(dir, CERT_FILES.chain), 'garbage');
      expect(await store.reload()).toBe(false);
      expect(store.current.serialNumber).toBe(second.serialNumber);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('warns before the certificate expires', async () => {
    const dir = join(root, 'short');
    await issueWorkloadCertificate({
      caDir: ca,
      namespace: 'web',
      serviceAccount: 'short',
      outDir: dir,
      validityMs: 90_000,
    });
    // Issued with a minute of back-dating, so a third of its life is already gone: the warning fires at once.
    const store = await CertificateStore.open(dir, { watch: false, expiryWarningFraction: 0.9 });
    try {
      const [, msLeft] = await new Promise<[unknown, number]>((resolve) =>
        store.once('expiring', (c, ms) => resolve([c, ms])),
      );
      expect(msLeft).toBeGreaterThan(0);
      expect(msLeft).toBeLessThanOrEqual(90_000);
    } finally {
      store.close();
    }
  });
});
