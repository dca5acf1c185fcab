// One HBONE workload in a process of its own (built packages, loopback socket ops), for tests
// that kill a peer with -9. argv[2] is JSON:
//   { role: 'server', certDir, appPort }                 → an HBONE listener delivering to appPort
//   { role: 'client', certDir, appPort, hbonePort }      → a captured-outbound listener tunnelling to hbonePort
// It prints `READY {"port":…,"admin":…}` once listening; /metrics and /healthz are on `admin`.
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, silentLogger, startAdminServer } from '@switchyard/dataplane';
import { hboneCarrier } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';

const o = JSON.parse(process.argv[2] ?? '{}');
const LOCAL = '127.0.0.1';
const app = { address: LOCAL, port: o.appPort };
const plane = new DataPlane({
  socketOps: loopbackSocketOps(),
  identityFallback: 'trust-domain',
  logger: silentLogger,
});
const identity = await CertificateStore.open(o.certDir, { watch: false });
const policy =
  o.role === 'server'
    ? { ports: { hbone: 0 }, inbound: { host: LOCAL, fixedDestination: app } }
    : {
        ports: {},
        outbound: {
          port: 0,
          host: LOCAL,
          meshCidrs: ['127.0.0.0/8'],
          fixedDestination: app,
          route: () => ({ address: LOCAL, port: o.hbonePort }),
        },
      };
const status = await plane.addWorkload({ id: o.role, identity, carrier: hboneCarrier(), policy });
const admin = await startAdminServer(plane, { port: 0 });
process.stdout.write(`READY ${JSON.stringify({ port: status.listeners[0].port, admin: admin.port })}\n`);
process.once('SIGTERM', () => void plane.close(0).then(() => process.exit(0)));
