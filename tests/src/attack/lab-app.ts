import type { Server, Socket } from 'node:net';
import type { NetnsTarget } from '@switchyard/core';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import type { Lab } from '@switchyard/driver-tproxy/testing';

/** The app's port in the workload's namespace: an echo server. */
export const APP_PORT = 8080;
/** A second app port: every connection gets {@link DOWNLOAD_BYTES} and then its end. */
export const DOWNLOAD_PORT = 8081;
/** What the download app sends each connection: 64 MiB. */
export const DOWNLOAD_BYTES = 64 * 1024 * 1024;

/** The apps of the attacked workload, with the capture rules in front of them. */
export interface LabApps {
  /** Connections the apps accepted so far. */
  accepted(): number;
  /** How the echo app's connections ended so far: a clean end (FIN) or a reset. */
  ends(): { clean: number; reset: number };
  close(): Promise<void>;
}

/**
 * Puts capture rules in the workload's namespace and starts its apps there: the echo app on
 * {@link APP_PORT}, the download app on {@link DOWNLOAD_PORT}.
 */
export async function startApps(lab: Lab): Promise<LabApps> {
  const driver = tproxyDriver();
  const target: NetnsTarget = { kind: 'netns', name: lab.b.name };
  // The capture rules also route the replies of dials that keep the client's address.
  await driver.apply(target, { families: ['ipv4'], inbound: { port: 15006, excludePorts: [15008] } });
  const servers: Server[] = [
    await driver.socketOps.listen({ port: APP_PORT, target }),
    await driver.socketOps.listen({ port: DOWNLOAD_PORT, target }),
  ];
  let accepted = 0;
  const open = new Set<Socket>();
  const hold = (s: Socket) => {
    accepted += 1;
    open.add(s);
    s.on('error', () => undefined);
    s.on('close', () => open.delete(s));
  };
  const ends = { clean: 0, reset: 0 };
  servers[0]?.on('connection', (s: Socket) => {
    hold(s);
    s.once('end', () => {
      ends.clean += 1;
    });
    s.once('error', () => {
      ends.reset += 1;
    });
    s.pipe(s);
  });
  servers[1]?.on('connection', (s: Socket) => {
    hold(s);
    download(s);
  });
  return {
    accepted: () => accepted,
    ends: () => ({ ...ends }),
    close: async () => {
      for (const s of open) s.destroy();
      await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
    },
  };
}

/** Writes {@link DOWNLOAD_BYTES} with back-pressure, then ends. */
function download(s: Socket): void {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let left = DOWNLOAD_BYTES / chunk.length;
  const write = () => {
    while (left > 0 && !s.destroyed) {
      left -= 1;
      if (!s.write(chunk)) return void s.once('drain', write);
    }
    if (!s.destroyed) s.end();
  };
  write();
}
