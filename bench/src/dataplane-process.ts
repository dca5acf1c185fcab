// One Switchyard data plane in a process of its own with a native engine's carrier (mtls-native,
// or hbone-native): the same DataPlane, admission, identities and reports as the JavaScript
// rows' sidecars, with handshakes, framing and bytes on engine threads. Loopback socket ops, a
// fixed upstream. argv[2] is JSON: { certDir, carrier?, groups?, inbound?, outbound?, ports?,
// routeTo? } (inbound/outbound as the sidecar's; routeTo: the HBONE peer's port, outbound).
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane } from '@switchyard/dataplane';
import { CertificateStore } from '@switchyard/mesh';
import { mtlsNativeCarrier } from '@switchyard/relay-native/carrier';
import { hboneNativeCarrier } from '@switchyard/relay-native/hbone';

const o = JSON.parse(process.argv[2] ?? '{}');
const LOCAL_PEER = (port: number) => ({ address: '127.0.0.1', port });
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
  carrier: (o.carrier === 'hbone-native' ? hboneNativeCarrier : mtlsNativeCarrier)(
    o.groups ? { groups: o.groups } : {},
  ),
  policy: {
    ...(o.inbound ? { inbound: o.inbound } : {}),
    ...(o.outbound
      ? { outbound: { ...o.outbound, ...(o.routeTo ? { route: () => LOCAL_PEER(o.routeTo) } : {}) } }
      : {}),
    ...(o.ports ? { ports: o.ports } : {}),
  },
});
process.stdout.write(`READY ${JSON.stringify(status.listeners)}\n`);
process.once('SIGTERM', () => {
  void plane.close(0).then(() => process.exit(0));
});
