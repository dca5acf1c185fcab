// One Switchyard mTLS sidecar in a process of its own, as the bench runs it: loopback socket ops
// and a fixed upstream, so it does exactly the work a peer proxy does (no capture involved).
// argv[2] is the JSON of the sidecar's inbound/outbound options and the certificate directory.
import tls from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore } from '@switchyard/mesh';
import { MtlsSidecar } from '@switchyard/mtls-proxy';

const options = JSON.parse(process.argv[2] ?? '{}');
// The bench pins one key exchange for every TLS row (Node's default would be X25519MLKEM768).
if (options.groups) tls.DEFAULT_ECDH_CURVE = options.groups;
const certificates = await CertificateStore.open(options.certDir, { watch: false });
const sidecar = new MtlsSidecar({
  socketOps: loopbackSocketOps(),
  certificates,
  log: () => {},
  maxConnections: 1_000_000,
  // The idle scenario opens thousands of connections from one address at once.
  limits: { maxPendingHandshakes: 100_000, maxPendingHandshakesPerSource: 100_000 },
  ...(options.inbound ? { inbound: options.inbound } : {}),
  ...(options.outbound ? { outbound: options.outbound } : {}),
});
await sidecar.start();
process.stdout.write(`READY ${JSON.stringify(sidecar.addresses())}\n`);
process.once('SIGTERM', () => {
  void sidecar.close().then(() => process.exit(0));
});
