import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILES, CERT_FILES } from './cert-files.js';
import { initCa, issueWorkloadCertificate } from './dev-ca.js';

let root: string;
let ca: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-ca-guards-'));
  ca = join(root, 'ca');
  await initCa({ dir: ca, trustDomain: 'cluster.local' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('development CA guards', () => {
  it('a place nothing can be created (under /proc) or a file given as a directory is bad input, never a hang or an internal error', async () => {
    await expect(
      initCa({ dir: `/proc/swy-ca-${process.pid}`, trustDomain: 'cluster.local' }),
    ).rejects.toMatchObject({
      code: 'SWY_ERR_INPUT_INVALID',
      message: expect.stringMatching(
        /^cannot create \/proc\/swy-ca-\d+ for the CA \(E[A-Z]+\); choose a directory you can write$/,
      ),
    });
    const file = join(root, 'a-file.pem');
    await writeFile(file, 'not a directory');
    await expect(
      issueWorkloadCertificate({ caDir: ca, namespace: 'web', serviceAccount: 'api', outDir: file }),
    ).rejects.toMatchObject({
      code: 'SWY_ERR_INPUT_INVALID',
      message: `${file} is a file, not a directory; give the certificates a directory`,
    });
    const deep = join(root, 'new', 'deeper', 'api');
    await issueWorkloadCertificate({ caDir: ca, namespace: 'web', serviceAccount: 'api', outDir: deep });
    expect((await readdir(deep)).sort()).toEqual(Object.values(CERT_FILES).sort());
  });

  it('refuses to replace an existing CA, and with force says what it replaced', async () => {
    const before = await readFile(join(ca, CA_FILES.key), 'utf8');
    await expect(initCa({ dir: ca, trustDomain: 'other.local' })).rejects.toThrow(
      /already holds a development CA for cluster\.local.*stop verifying\. Choose another directory, or replace it on purpose with force: true \(switchyard ca init --force\)$/,
    );
    expect(await readFile(join(ca, CA_FILES.key), 'utf8')).toBe(before);
    const lost = join(root, 'lost');
    await initCa({ dir: lost, trustDomain: 'cluster.local' });
    const replaced = await initCa({ dir: lost, trustDomain: 'other.local', force: true });
    expect(replaced.replaced).toMatchObject({ trustDomain: 'cluster.local' });
    expect(await readdir(lost)).toEqual([CA_FILES.cert, CA_FILES.key].sort());
  });

  it.each([0, -5, 1.5, Number.NaN, 36_501])('refuses %s days and writes nothing', async (days) => {
    const dir = join(root, `days-${String(days)}`);
    await expect(initCa({ dir, trustDomain: 'cluster.local', days })).rejects.toThrow(
      /days .* is not usable/,
    );
    expect(await exists(dir)).toBe(false);
  });

  it('refuses hours that are not whole, or outlive the CA, and leaves the old certificate intact', async () => {
    const out = join(root, 'out');
    const first = await issueWorkloadCertificate({
      caDir: ca,
      namespace: 'web',
      serviceAccount: 'a',
      outDir: out,
    });
    for (const [hours, message] of [
      [Number.NaN, /hours .* is not usable/],
      [0, /hours 0 is not usable/],
      [100_000, /would outlive its CA, which expires at .*; give at most \d+ hours/],
    ] as const) {
      await expect(
        issueWorkloadCertificate({ caDir: ca, namespace: 'web', serviceAccount: 'a', outDir: out, hours }),
      ).rejects.toThrow(message);
    }
    const chain = new X509Certificate(await readFile(join(out, CERT_FILES.chain)));
    expect(chain.serialNumber).toBe(first.serialNumber);
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await stat(join(out, CERT_FILES.key))).mode & 0o777).toBe(0o600);
  });

  it('names an unreadable or broken CA key instead of saying there is no CA', async () => {
    const broken = join(root, 'broken');
    await initCa({ dir: broken, trustDomain: 'cluster.local' });
    await writeFile(join(broken, CA_FILES.key), 'garbage');
    const issue = () =>
      issueWorkloadCertificate({
        caDir: broken,
        namespace: 'web',
        serviceAccount: 'a',
        outDir: join(root, 'x'),
      });
    await expect(issue()).rejects.toThrow(/ca-key\.pem is not a PKCS#8 ECDSA P-256 key/);
    await rm(join(broken, CA_FILES.key));
    await mkdir(join(broken, CA_FILES.key));
    await expect(issue()).rejects.toThrow(/cannot read the CA key .*ca-key\.pem: EISDIR/);
    expect(await exists(join(root, 'x'))).toBe(false);
  });
});
