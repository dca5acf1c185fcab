// What a project outside the Switchyard repository does with the published packages: run by
// tests/src/pack-install.test.ts after installing the packed tarballs with npm and with pnpm.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverRegistry, isSwitchyardError, normalizePolicy, validatePolicy } from '@switchyard/core';
import { CarrierRegistry } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { HBONE_PORT, HboneClient } from '@switchyard/hbone';
import { CertificateStore, initCa, issueWorkloadCertificate } from '@switchyard/mesh';
import { MtlsSidecar } from '@switchyard/mtls-proxy';
import { nativeEngineUnavailable } from '@switchyard/relay-native';

const checked = validatePolicy({ inbound: { port: 15006, excludePorts: [HBONE_PORT] } });
if (!checked.ok) throw new Error(`policy refused: ${JSON.stringify(checked.issues)}`);
let refused;
try {
  normalizePolicy({ inbound: { port: 0 } });
} catch (error) {
  refused = isSwitchyardError(error) ? error.code : 'not branded';
}

// Drivers are imported from here, where the project installed them (pnpm keeps them out of core's reach).
const registry = new DriverRegistry({ importModule: (specifier) => import(specifier) });
const memory = await registry.create('memory');
const tproxy = await registry.create('tproxy');
const probe = await tproxy.probe();
if (typeof tproxyDriver !== 'function') throw new Error('tproxyDriver is not exported');
// The native engine's addon, and its carrier through the data plane's registry (as the agent picks it).
const relayEngine = nativeEngineUnavailable() ?? 'loaded';
const carriers = new CarrierRegistry({ importModule: (specifier) => import(specifier) });
if (await carriers.unavailable('mtls-native')) throw new Error('the mtls-native carrier does not load');

const work = mkdtempSync(join(tmpdir(), 'swy-consumer-'));
const free = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
try {
  await initCa({ dir: join(work, 'ca'), trustDomain: 'cluster.local' });
  await issueWorkloadCertificate({
    caDir: join(work, 'ca'),
    namespace: 'web',
    serviceAccount: 'api',
    outDir: join(work, 'api'),
  });
  const certificates = await CertificateStore.open(join(work, 'api'), { watch: false });
  const sidecar = new MtlsSidecar({
    socketOps: memory.socketOps,
    certificates,
    log: () => {},
    inbound: { port: free, host: '127.0.0.1', families: ['ipv4'] },
  });
  await sidecar.start();
  const listening = sidecar.addresses();
  await sidecar.close();
  const client = new HboneClient({
    socketOps: memory.socketOps,
    certificates,
    identityFallback: 'trust-domain',
  });
  client.close();
  certificates.close();
  process.stdout.write(
    `${JSON.stringify({ refused, tproxyAddon: probe.details.addon ?? probe.problems.map((p) => p.message).join('; '), relayEngine, carriers: carriers.names(), listening })}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
