// One side of the bench's HBONE pair, in a process of its own, with loopback socket ops:
//   server: an HBONE server on PORT that sends every tunnel to a fixed upstream;
//   client: a plain listener on PORT whose connections each become a tunnel to the HBONE server.
// argv[2] is JSON: { mode, certDir, port, upstreamPort } or { mode, certDir, port, hbonePort, upstreamPort }.
import { createServer, type Socket } from 'node:net';
import tls from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { splice } from '@switchyard/dataplane';
import { HboneClient, HboneSidecar } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';

const o = JSON.parse(process.argv[2] ?? '{}');
// The bench pins one key exchange for every TLS row (Node's default would be X25519MLKEM768).
if (o.groups) tls.DEFAULT_ECDH_CURVE = o.groups;
const certificates = await CertificateStore.open(o.certDir, { watch: false });
const LOCAL = '127.0.0.1';

if (o.mode === 'server') {
  const server = new HboneSidecar({
    socketOps: loopbackSocketOps(),
    certificates,
    hbonePort: o.port,
    host: LOCAL,
    fixedDestination: { address: LOCAL, port: o.upstreamPort },
    log: () => {},
  });
  await server.start();
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  // The bench's peer is known: any identity of the test trust domain is accepted, as before.
  const client = new HboneClient({
    socketOps: loopbackSocketOps(),
    identityFallback: 'trust-domain',
    certificates,
  });
  const listener = createServer({ allowHalfOpen: true, noDelay: true }, (raw: Socket) => {
    raw.on('error', () => {});
    client
      .connect({
        destination: { address: LOCAL, port: o.upstreamPort },
        peer: { address: LOCAL, port: o.hbonePort },
      })
      .then((tunnel) => splice(raw, tunnel))
      .catch(() => raw.destroy());
  });
  await new Promise<void>((r) => listener.listen(o.port, LOCAL, r));
  process.once('SIGTERM', () => {
    client.close();
    listener.close(() => process.exit(0));
  });
}
process.stdout.write('READY\n');
