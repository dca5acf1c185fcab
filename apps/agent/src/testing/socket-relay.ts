import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A unix socket in front of another, whose connections a test can cut (a broken Docker event stream). */
export interface SocketRelay {
  path: string;
  /** Destroys every open connection and refuses new ones until {@link SocketRelay.restore}. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Starts a relay at `path` to the unix socket `upstream`. */
export async function startSocketRelay(path: string, upstream: string): Promise<SocketRelay> {
  const open = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const up = connect(upstream);
    for (const s of [client, up]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => (s === client ? up : client).destroy());
    }
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    restore() {
      refusing = false;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(path, { force: true });
    },
  };
}
