import { createServer, type Server, Socket } from 'node:net';
import type {
  DialOptions,
  IpFamily,
  NetnsTarget,
  SocketAddress,
  SocketOps,
  Target,
  TransparentListenOptions,
} from '@switchyard/core';
import {
  assertTargetKind,
  connectSocket,
  DEFAULT_CONNECT_TIMEOUT_MS,
  formatEndpoint,
} from '@switchyard/core';
import { loadAddon } from './native.js';
import { existingNetns } from './netns.js';

const familyOf = (address: string): IpFamily =>
  address.includes(':') && !address.includes('.') ? 'ipv6' : 'ipv4';
const unmap = (address: string) =>
  address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;

async function nsPathOf(target: Target | undefined): Promise<string | null> {
  if (!target) return null;
  assertTargetKind({ name: 'tproxy', targetKinds: ['netns'] }, target);
  return existingNetns(target as NetnsTarget);
}

/**
 * Socket operations for connections captured by TPROXY rules:
 * - `listen` opens an IP_TRANSPARENT listener (optionally inside a pod's namespace) that Node adopts;
 * - `originalDestination` is the accepted socket's local address (TPROXY keeps it), or
 *   SO_ORIGINAL_DST for connections redirected by NAT rules;
 * - `dial` connects with the bypass mark, so the rules let it through, and can bind the original
 *   client's address as source so the workload sees the real client.
 * The addon only creates, marks and binds a dial's socket; Node connects it in the event loop, so
 * a slow or black-holed destination holds up no other dial.
 */
export function transparentSocketOps(defaultMark: number): SocketOps {
  return {
    transparent: true,
    preservesSource: true,

    async listen(options: TransparentListenOptions): Promise<Server> {
      const family = options.family ?? (options.host ? familyOf(options.host) : 'ipv4');
      const host = options.host ?? (family === 'ipv6' ? '::' : '0.0.0.0');
      const nsPath = await nsPathOf(options.target);
      let fd: number;
      try {
        fd = loadAddon().listen(host, options.port, options.backlog ?? 511, nsPath);
      } catch (cause) {
        // "bind failed: Address already in use" alone names neither the port nor the namespace.
        const where = `${formatEndpoint({ address: host, port: options.port })}${nsPath ? ` in ${nsPath}` : ''}`;
        throw new Error(`cannot listen on ${where}: ${(cause as Error).message}`, { cause });
      }
      const server = createServer({ allowHalfOpen: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server;
    },

    originalDestination(socket: Socket): SocketAddress {
      const local = unmap(socket.localAddress ?? '');
      const family = familyOf(local);
      // The fd of Node's TCP handle; not public API, but stable for years and the only way to getsockopt.
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd === 'number' && fd >= 0) {
        const natted = loadAddon().originalDst(fd, family === 'ipv6' ? 6 : 4);
        if (natted)
          return { address: unmap(natted.address), port: natted.port, family: familyOf(natted.address) };
      }
      return { address: local, port: socket.localPort ?? 0, family };
    },

    async dial(options: DialOptions): Promise<Socket> {
      options.signal?.throwIfAborted();
      const fd = loadAddon().socket(
        familyOf(options.destination.address) === 'ipv6' ? 6 : 4,
        options.mark ?? defaultMark,
        options.source?.address ?? null,
        options.source?.port ?? 0,
        await nsPathOf(options.target),
      );
      return connectSocket(new Socket({ fd, allowHalfOpen: true }), options.destination, {
        timeout: options.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
        signal: options.signal,
      });
    },
  };
}
