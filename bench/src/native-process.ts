// One side of the bench's native-engine paths, in a process of its own. JavaScript accepts,
// dials and authorizes; the engine moves the bytes.
//   relay:    plain listener on PORT → splice relay to UPSTREAM
//   outbound: plain listener on PORT → dial UPSTREAM → engine TLS client → relay
//   inbound:  TLS listener on PORT → engine TLS server → authorize → dial UPSTREAM → relay
// argv[2] is JSON: { mode, port, upstreamPort, certDir?, groups?, threads? }.
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { CERT_FILES } from '@switchyard/mesh';
import { createRelayEngine, type TlsContext } from '@switchyard/relay-native';

const o = JSON.parse(process.argv[2] ?? '{}') as {
  mode: 'relay' | 'outbound' | 'inbound';
  port: number;
  upstreamPort: number;
  certDir?: string;
  groups?: string;
  threads?: number;
};
const LOCAL = '127.0.0.1';
/** The bench's peers all live in this trust domain; anything else is refused. */
const TRUSTED = 'spiffe://cluster.local/';

const engine = createRelayEngine(o.threads ? { threads: o.threads } : {});
const context: TlsContext | undefined = o.certDir
  ? engine.createTlsContext({
      cert: readFileSync(join(o.certDir, CERT_FILES.chain)),
      key: readFileSync(join(o.certDir, CERT_FILES.key)),
      ca: readFileSync(join(o.certDir, CERT_FILES.bundle)),
      ...(o.groups ? { groups: o.groups } : {}),
    })
  : undefined;

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: LOCAL, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function handle(accepted: Socket): Promise<void> {
  accepted.on('error', () => accepted.destroy());
  if (o.mode === 'relay') {
    await engine.splice(accepted, await dial(o.upstreamPort));
    return;
  }
  const tls = o.mode === 'outbound' ? await dial(o.upstreamPort) : accepted;
  const peer = await engine.tls({
    role: o.mode === 'outbound' ? 'client' : 'server',
    socket: tls,
    credentials: context as TlsContext,
  });
  if (!peer.ok) {
    accepted.destroy();
    return;
  }
  if (!peer.spiffeId.startsWith(TRUSTED)) {
    await peer.reject();
    accepted.destroy();
    return;
  }
  await peer.accept(o.mode === 'outbound' ? accepted : await dial(o.upstreamPort));
}

const server = createServer({ pauseOnConnect: true, noDelay: true }, (s) => {
  handle(s).catch(() => s.destroy());
});
server.listen({ port: o.port, host: LOCAL, backlog: 4096 }, () => process.stdout.write('READY\n'));
process.once('SIGTERM', () => {
  server.close();
  engine.close();
  process.exit(0);
});
