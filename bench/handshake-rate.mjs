// Mutual TLS 1.3 handshakes per second on loopback with ECDSA P-256 versus RSA-2048 certificates,
// measured in one run so the ratio is meaningful on a shared machine. It decided the development
// CA's key type. Usage: node bench/handshake-rate.mjs [handshakes=1000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

const count = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'swy-hs-'));

function selfSigned(kind) {
  const key =
    kind === 'ecdsa-p256'
      ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-newkey', 'rsa:2048'];
  const [k, c] = [join(dir, `${kind}.key`), join(dir, `${kind}.crt`)];
  execFileSync(
    'openssl',
    ['req', '-x509', ...key, '-nodes', '-keyout', k, '-out', c, '-days', '1', '-subj', '/CN=bench'],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(k), cert: readFileSync(c) };
}

async function handshakesPerSecond(kind) {
  const pair = selfSigned(kind);
  const server = tls.createServer(
    { ...pair, ca: pair.cert, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    (s) => s.end(),
  );
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      const s = tls.connect(
        { port, host: '127.0.0.1', ...pair, ca: pair.cert, checkServerIdentity: () => undefined },
        () => {
          s.destroy();
          resolve();
        },
      );
      s.once('error', reject);
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((r) => server.close(r));
  return count / seconds;
}

try {
  const ec = await handshakesPerSecond('ecdsa-p256');
  const rsa = await handshakesPerSecond('rsa-2048');
  console.log(
    `mutual TLS 1.3 handshakes/s: ECDSA P-256 ${ec.toFixed(0)}, RSA-2048 ${rsa.toFixed(0)} — P-256 is ${(ec / rsa).toFixed(2)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
