// One Switchyard data plane in a process of its own with the native engine's carrier
// (mtls-native): the same DataPlane, admission, identities and reports as the `mtls` row's
// sidecar, with handshakes and bytes on engine threads. Loopback socket ops, a fixed upstream.
// argv[2] is JSON: { certDir, groups?, inbound?, outbound? } (inbound/outbound as the sidecar's).
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane } from '@switchyard/dataplane';
import { CertificateStore } from '@switchyard/mesh';
import { mtlsNativeCarrier } from '@switchyard/relay-native/carrier';

const o = JSON.parse(process.argv[2] ?? '{}');
const certificates = await CertificateStore.open(o.certDir, { watch: false });
const plane = new DataPlane({
  socketOps: loopbackSocketOps(),
  identityFallback: 'trust-domain',
  // The idle scenario opens thousands of connections from one address at once.
  limits: {
    maxConnections: 1_000_000,
    maxPendingHandshakes: 100_000,
    maxPendingHandshakesPerSource: 100_000,
  },
});
const status = await plane.addWorkload({
  id: 'bench',
  identity: certificates,
  carrier: mtlsNativeCarrier(o.groups ? { groups: o.groups } : {}),
  policy: { ...(o.inbound ? { inbound: o.inbound } : {}), ...(o.outbound ? { outbound: o.outbound } : {}) },
});
process.stdout.write(`READY ${JSON.stringify(status.listeners)}\n`);
process.once('SIGTERM', () => {
  void plane.close(0).then(() => process.exit(0));
});
