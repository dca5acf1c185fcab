import { connect, createServer, type Server, type Socket } from 'node:net';

/** A sink server: swallows bulk data; echoes on connections that ask for it (first byte "E"). */
export async function startSink(
  host = '127.0.0.1',
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (first) => {
      if (first[0] === 0x45) {
        // echo mode: latency and connection-rate clients
        if (first.length > 1) socket.write(first.subarray(1));
        socket.on('data', (d) => socket.write(d));
      } else socket.resume();
    });
    socket.on('end', () => socket.end());
  });
  server.maxConnections = 100_000;
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Opens a client connection; the default is a plain `net.connect`, a captured scenario dials from inside a namespace. */
export type Dialer = (host: string, port: number) => Promise<Socket>;

const plainDial: Dialer = (host, port) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });

/**
 * Sends as fast as the path takes for `seconds` over `streams` connections; returns bits per
 * second. Bounded by time: every stream stops at the deadline.
 */
export async function bulkThroughput(
  port: number,
  streams: number,
  seconds: number,
  host = '127.0.0.1',
  open: Dialer = plainDial,
): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 0x42);
  const deadline = Date.now() + seconds * 1000;
  let bytes = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      const s = await open(host, port);
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (Date.now() < deadline) {
            bytes += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
          s.end(() => resolve());
        };
        s.once('error', () => resolve());
        pump();
      });
      s.destroy();
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return (bytes * 8) / elapsed;
}

/** Round trips of a `size`-byte message on one connection; returns each round trip in µs. */
export async function roundTrips(
  port: number,
  count: number,
  size = 64,
  host = '127.0.0.1',
  open: Dialer = plainDial,
): Promise<number[]> {
  const s = await open(host, port);
  const message = Buffer.alloc(size, 0x61);
  s.write(Buffer.from('E'));
  const times: number[] = [];
  try {
    for (let i = 0; i < count + 10; i++) {
      const t = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        let got = 0;
        const onData = (d: Buffer) => {
          got += d.length;
          if (got >= size) {
            s.off('data', onData);
            s.off('error', reject);
            resolve();
          }
        };
        s.on('data', onData);
        s.once('error', reject);
        s.write(message);
      });
      if (i >= 10) times.push(Number(process.hrtime.bigint() - t) / 1000); // the first ten warm up
    }
  } finally {
    s.destroy();
  }
  return times;
}

/** New connections per second: connect, send one byte, read it back, close; `concurrency` at once, for `seconds`. */
export async function connectionRate(
  port: number,
  seconds: number,
  concurrency = 8,
  host = '127.0.0.1',
  open: Dialer = plainDial,
): Promise<{ perSecond: number; connections: number }> {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const s = await open(host, port).catch(() => undefined);
        if (!s) continue;
        await new Promise<void>((resolve) => {
          s.once('data', () => {
            done += 1;
            s.destroy();
            resolve();
          });
          s.once('error', () => resolve());
          s.once('close', () => resolve());
          s.write('Ex');
        });
      }
    }),
  );
  return { perSecond: done / ((Date.now() - started) / 1000), connections: done };
}

/** How long one idle connection may take to prove itself with an echo. */
const IDLE_ECHO_TIMEOUT_MS = 15_000;

/** Opens `count` idle connections (each proven with one echo) and returns a closer. */
export async function idleConnections(
  port: number,
  count: number,
  host = '127.0.0.1',
  open: Dialer = plainDial,
): Promise<{ opened: number; close(): void }> {
  const sockets: Socket[] = [];
  const batch = 200;
  for (let i = 0; i < count; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async () => {
        const s = await open(host, port).catch(() => undefined);
        if (!s) return undefined;
        // a proxy that refuses or dies must not hold the bench: every wait ends
        const echoed = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), IDLE_ECHO_TIMEOUT_MS);
          const done = (ok: boolean) => {
            clearTimeout(timer);
            resolve(ok);
          };
          s.once('data', () => done(true));
          s.once('error', () => done(false));
          s.once('close', () => done(false));
          s.write('Ex');
        });
        if (echoed) return s;
        s.destroy();
        return undefined;
      }),
    );
    for (const s of made) if (s) sockets.push(s);
  }
  return {
    opened: sockets.length,
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}
