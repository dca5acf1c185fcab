// The engine's HTTP/2 server fed cut and corrupted frames: valid HBONE conversations (preface,
// SETTINGS, CONNECT streams, DATA, PING, RST_STREAM, CONTINUATION, GOAWAY) cut at random points,
// with bytes flipped and random frames inserted, over real TLS. Thousands of cases, a fixed seed
// (a failure names its case and replays); the engine must end every connection and keep serving.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import { credentials, dial, fixture, nodeHttp2Client, pausedServer } from './test-support/loopback.js';

const CASES = Number(process.env.H2_FUZZ_CASES ?? 2000);
const PARALLEL = 16;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A small deterministic generator (mulberry32): every case is reproducible from its number. */
function random(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
  };
}

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK literal fields without indexing, plain (no Huffman): what a CONNECT needs. */
function hpack(fields: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields)
    parts.push(
      Buffer.from([0, name.length]),
      Buffer.from(name),
      Buffer.from([value.length]),
      Buffer.from(value),
    );
  return Buffer.concat(parts);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Valid conversations the mutations start from. */
function conversations(authority: string): Buffer[][] {
  const connect = (extra: [string, string][] = []) =>
    hpack([[':method', 'CONNECT'], [':authority', authority], ...extra]);
  const settings = frame(4, 0, 0, Buffer.from([0, 4, 0, 1, 0, 0, 0, 3, 0, 0, 0, 50]));
  return [
    [
      PREFACE,
      settings,
      frame(4, 1, 0),
      frame(1, 4, 1, connect()),
      frame(0, 0, 1, Buffer.alloc(300, 7)),
      frame(6, 0, 0, Buffer.alloc(8, 1)),
      frame(8, 0, 0, u32(65535)),
      frame(0, 1, 1, Buffer.from('end')),
    ],
    [
      PREFACE,
      settings,
      frame(1, 4, 1, connect()),
      frame(1, 4, 3, connect([['forwarded', 'for="1.2.3.4"']])),
      frame(3, 0, 3, u32(8)),
      frame(2, 0, 5, Buffer.from([0, 0, 0, 1, 16])),
      frame(1, 5, 5, connect()),
      frame(0, 0, 1, Buffer.alloc(1000, 1)),
      frame(7, 0, 0, Buffer.concat([u32(5), u32(0)])),
    ],
    [
      PREFACE,
      settings,
      frame(1, 0, 1, connect().subarray(0, 5)),
      frame(9, 4, 1, connect().subarray(5)),
      frame(8, 0, 1, u32(100)),
      frame(0, 8, 1, Buffer.from([3, 1, 2, 3, 0, 0, 0])),
      frame(3, 0, 1, u32(0)),
    ],
  ];
}

/** One case: a conversation cut, flipped and salted with random frames, and how the peer leaves. */
function mutate(caseNumber: number, authority: string): { bytes: Buffer; leave: 'end' | 'reset' | 'wait' } {
  const r = random(caseNumber);
  const base = conversations(authority);
  const frames = [...(base[Math.floor(r(base.length))] ?? [])];
  for (let i = Math.floor(r(3)); i > 0; i--) {
    const payload = Buffer.alloc(Math.floor(r(40)));
    for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(r(256));
    const at = 1 + Math.floor(r(frames.length));
    frames.splice(at, 0, frame(Math.floor(r(12)), Math.floor(r(256)), Math.floor(r(8)), payload));
  }
  let bytes = Buffer.concat(frames);
  for (let i = Math.floor(r(4)); i > 0; i--) {
    const at = Math.floor(r(bytes.length));
    bytes[at] = (bytes[at] ?? 0) ^ (1 + Math.floor(r(255)));
  }
  if (r(1) < 0.5) bytes = bytes.subarray(0, Math.floor(r(bytes.length)));
  const leave = (['end', 'reset', 'wait'] as const)[Math.floor(r(3))] ?? 'end';
  return { bytes, leave };
}

describe("the engine's HTTP/2 server under cut and corrupted frames", () => {
  const engine = createRelayEngine({ threads: 2, handshakeTimeoutMs: 2000 });
  const context = engine.createTlsContext({ ...credentials('server'), alpn: 'h2' });
  let echo: Server;
  let echoPort = 0;
  const accepted: Socket[] = [];
  beforeAll(async () => {
    echo = createServer({ allowHalfOpen: true }, (s) => {
      accepted.push(s);
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterAll(() => {
    engine.close();
    echo.close();
    for (const s of accepted) s.destroy();
  });

  async function feed(
    listener: Awaited<ReturnType<typeof pausedServer>>,
    caseNumber: number,
  ): Promise<string> {
    const { bytes, leave } = mutate(caseNumber, `127.0.0.1:${echoPort}`);
    // TLS over a TCP socket of our own: only a TCP socket can be reset
    const raw = connect({ port: listener.port, host: '127.0.0.1' });
    raw.on('error', () => undefined);
    const client = tlsConnect({
      socket: raw,
      cert: fixture('client.pem'),
      key: fixture('client-key.pem'),
      ca: fixture('ca.pem'),
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    });
    client.on('error', () => undefined);
    client.on('data', () => undefined); // whatever the engine answers is read and dropped
    const secure = new Promise<void>((resolve) => client.once('secureConnect', () => resolve()));
    const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: context });
    if (!peer.ok) throw new Error(`case ${caseNumber}: handshake ${peer.reason} ${peer.detail}`);
    const session = peer.http2({
      role: 'server',
      onStream: (t) => {
        // every other stream gets an app socket, the rest a refusal: both paths are fed
        if (t.stream % 4 === 1)
          void dial(echoPort)
            .then((app) => t.accept(app))
            .catch(() => t.reset());
        else t.refuse(400);
      },
    });
    await secure;
    client.write(bytes);
    if (leave === 'end') client.end();
    if (leave === 'reset') raw.resetAndDestroy();
    const timer = setTimeout(() => client.destroy(), 300);
    const ended = await session.ended;
    clearTimeout(timer);
    client.destroy();
    return ended.reason;
  }

  it(`ends each of ${CASES} connections, crashes nowhere, and keeps serving`, async () => {
    const listener = await pausedServer();
    const reasons = new Map<string, number>();
    for (let start = 0; start < CASES; start += PARALLEL) {
      const batch = Array.from({ length: PARALLEL }, (_, i) => start + i).filter((n) => n < CASES);
      // handed over one at a time: the listener's next socket is this case's
      for (const reason of await Promise.all(batch.map((n) => feed(listener, n))))
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    listener.server.close();
    const known = ['eof', 'reset', 'protocol-error', 'enhance-your-calm', 'tls-error'];
    expect([...reasons.keys()].filter((k) => !known.includes(k))).toEqual([]);
    // the corruption reached the parser: most conversations were refused as broken HTTP/2
    expect(reasons.get('protocol-error') ?? 0).toBeGreaterThan(CASES / 10);
    await expect.poll(() => engine.stats().connections, { timeout: 10_000 }).toBe(0);
    expect(await cleanTunnel()).toBe(200);
  }, 300_000);

  /** After the fuzz: a well-behaved client (Node's HTTP/2) still gets its tunnel. */
  async function cleanTunnel(): Promise<number> {
    const listener = await pausedServer();
    const client = nodeHttp2Client(listener.port);
    const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: context });
    listener.server.close();
    if (!peer.ok) throw new Error(peer.detail);
    peer.http2({ role: 'server', onStream: (t) => void dial(echoPort).then((app) => t.accept(app)) });
    const stream = client.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echoPort}` });
    const status = await new Promise<number>((resolve) =>
      stream.once('response', (h) => resolve(Number(h[':status']))),
    );
    client.destroy();
    return status;
  }
});
