/**
 * `@switchyard/relay-native`: the data plane's native relay engine (Linux). JavaScript decides
 * everything (who connects, where to, whether a peer is authorized) and then hands the sockets to
 * engine threads that move the bytes: plain relays with splice(2) through a pipe, TLS 1.3 with the
 * OpenSSL Node already carries. Results come back in batches, never per chunk.
 *
 * @example
 * ```ts
 * import { createRelayEngine } from '@switchyard/relay-native';
 *
 * const engine = createRelayEngine(); // one thread per core
 * const context = engine.createTlsContext({ cert, key, ca, groups: 'X25519' });
 * const peer = await engine.tls({ role: 'server', socket, credentials: context });
 * if (peer.ok && allowed(peer.spiffeId)) await peer.accept(await dialApp());
 * else if (peer.ok) await peer.reject();
 * ```
 *
 * @module
 */

export {
  ADDON_BUILD_ENV,
  DEFAULT_DECISION_TIMEOUT_MS,
  DEFAULT_H2_IDLE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_PIPE_SIZE,
  DEFAULT_STALL_THRESHOLD_MS,
  defaultThreads,
} from './defaults.js';
export { RELAY_CHANNELS } from './diagnostics.js';
export type { Heartbeat, ThreadStall } from './engine-watchdog.js';
export {
  RELAY_ERROR_CLASSES,
  RelayCredentialsError,
  RelayEngineClosedError,
  RelayHandOffError,
} from './errors.js';
export {
  type DecidedTunnel,
  Http2Session,
  type IncomingTunnel,
  type OpenedTunnel,
  type TunnelResult,
} from './h2-session.js';
export type { HandOffOptions } from './hand-off-options.js';
export { nativeEngineUnavailable } from './load-addon.js';
export type { FailedHandshake, Http2Options, PeerHandshake } from './peer-handshake.js';
export {
  createRelayEngine,
  type EngineTlsLimits,
  RelayEngine,
  type RelayEngineOptions,
  type RelayEngineStats,
  type TlsHandOff,
} from './relay-engine.js';
export type { RelayCloseReason, RelayResult } from './relay-result.js';
export { TlsContext, type TlsCredentials } from './tls-credentials.js';
