import type { Server, Socket } from 'node:net';
import { connectSocket } from '../connect-socket.js';
import { TargetUnsupportedError } from '../errors.js';
import type { IpFamily } from '../policy.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type DialOptions,
  type SocketAddress,
  type SocketOps,
  type TransparentListenOptions,
} from '../socket-ops.js';
import { formatTarget, type Target } from '../target.js';

function refuseTarget(target: Target | undefined): void {
  if (target) {
    throw new TargetUnsupportedError(
      `loopback socket ops open sockets only in this process's own network, not in ${formatTarget(target)}; run the proxy inside that network, or use a driver that can (tproxy)`,
    );
  }
}

type NetModule = typeof import('node:net');
let net: NetModule | undefined;

// Core has no OS imports at load time; node:net is imported on first use only.
async function loadNet(): Promise<NetModule> {
  net ??= await import('node:net');
  return net;
}

function familyOf(address: string): IpFamily {
  return address.includes(':') && !address.startsWith('::ffff:') ? 'ipv6' : 'ipv4';
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack listener) reads as `10.0.0.1`. */
function unmap(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/**
 * Socket operations without capture: plain listeners and plain dials. A connection's original
 * destination is simply the address it reached. Used by the memory driver and by drivers that
 * capture nothing locally; `source` and `mark` of a dial are ignored.
 */
export function loopbackSocketOps(): SocketOps {
  return {
    transparent: false,
    preservesSource: false,
    inProcessDial: true,
    async listen(options: TransparentListenOptions): Promise<Server> {
      refuseTarget(options.target);
      const { createServer } = await loadNet();
      const family = options.family ?? (options.host ? familyOf(options.host) : 'ipv4');
      const host = options.host ?? (family === 'ipv6' ? '::' : '0.0.0.0');
      const server = createServer({ allowHalfOpen: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(
          { port: options.port, host, backlog: options.backlog ?? 511, ipv6Only: family === 'ipv6' },
          () => {
            server.off('error', reject);
            resolve();
          },
        );
      });
      return server;
    },
    originalDestination(socket: Socket): SocketAddress {
      const address = unmap(socket.localAddress ?? '');
      return { address, port: socket.localPort ?? 0, family: familyOf(address) };
    },
    async dial(options: DialOptions): Promise<Socket> {
      refuseTarget(options.target);
      const { Socket } = await loadNet();
      return connectSocket(new Socket({ allowHalfOpen: true }), options.destination, {
        timeout: options.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
        signal: options.signal,
      });
    },
  };
}
