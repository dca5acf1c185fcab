import type { Server, Socket } from 'node:net';
import type { IpFamily, SocketOps, Target } from '@switchyard/core';
import type { Accepted } from './carrier.js';
import type { Endpoint } from './decide.js';
import type { Logger } from './logger.js';
import type { ListenSpec } from './workload-policy.js';

const FAMILIES: IpFamily[] = ['ipv4', 'ipv6'];

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) reads as `10.0.0.1`. */
export function unmapAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** One bound listener. */
export interface BoundListener {
  server: Server;
  address: string;
  port: number;
}

/** What {@link listen} needs. */
export interface ListenOptions {
  socketOps: SocketOps;
  spec: ListenSpec;
  target?: Target | undefined;
  logger: Logger;
  /** Treat every accepted connection as going here (benchmarks, tests). */
  fixedDestination?: Endpoint | undefined;
  onAccepted(connection: Accepted): void;
}

/**
 * Opens a listener per family through the driver's socket ops (inside the target's network) and
 * hands over each accepted connection with its client address and original destination, read
 * once at accept time. IPv6 is skipped with a warning where the target has none, unless the spec
 * asked for it. If a listener fails, the ones already opened are closed before it throws.
 */
export async function listen(o: ListenOptions): Promise<BoundListener[]> {
  const { spec } = o;
  const wanted: (IpFamily | undefined)[] =
    spec.host !== undefined ? [undefined] : (spec.families ?? FAMILIES);
  const bound: BoundListener[] = [];
  try {
    for (const family of wanted) {
      let server: Server;
      try {
        server = await o.socketOps.listen({
          port: spec.port,
          ...(spec.host !== undefined ? { host: spec.host } : {}),
          ...(family ? { family } : {}),
          ...(o.target ? { target: o.target } : {}),
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (family === 'ipv6' && !spec.families && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
          o.logger.warn('no IPv6 listener: the target has no IPv6', {
            port: spec.port,
            reason: (error as Error).message,
          });
          continue;
        }
        throw error;
      }
      const address = server.address() as { address: string; port: number };
      bound.push({ server, address: address.address, port: address.port });
      server.on('connection', (socket: Socket) => o.onAccepted(accepted(o, socket)));
      server.on('error', (error) =>
        o.logger.warn('listener error', { port: address.port, reason: error.message }),
      );
    }
  } catch (error) {
    await closeListeners(bound);
    throw error;
  }
  return bound;
}

function accepted(o: ListenOptions, socket: Socket): Accepted {
  const original = o.socketOps.originalDestination(socket);
  return {
    socket,
    client: { address: unmapAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 },
    originalDestination: o.fixedDestination
      ? { ...o.fixedDestination, family: o.fixedDestination.address.includes(':') ? 'ipv6' : 'ipv4' }
      : original,
  };
}

/** Closes listeners (no new connections; open ones are not touched). */
export async function closeListeners(listeners: readonly BoundListener[]): Promise<void> {
  await Promise.all(listeners.map((l) => new Promise<void>((r) => l.server.close(() => r()))));
}
