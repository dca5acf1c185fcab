import { DEFAULT_PORTS } from '@switchyard/core';

/** HBONE's port, as Istio ztunnel listens on it (15008; core's table of ports is where it is defined). */
export const HBONE_PORT = DEFAULT_PORTS.hbone;

/**
 * The HTTP/2 settings ztunnel uses for HBONE. The stream and connection windows are unequal on
 * purpose (equal windows can deadlock a connection whose streams each fill the window).
 */
export const HBONE_SETTINGS = {
  /** Initial stream window: 4 MiB. */
  streamWindow: 4 * 1024 * 1024,
  /** Connection window: 16 MiB. */
  connectionWindow: 16 * 1024 * 1024,
  /** Largest frame: 1 MiB. */
  maxFrameSize: 1024 * 1024,
  /** Streams per pooled connection. */
  maxConcurrentStreams: 100,
  /** PING every 10 s; a connection that does not answer within 20 s is closed. */
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 20_000,
  /** A pooled connection with no stream for 5 minutes is closed. */
  idleTimeoutMs: 5 * 60_000,
} as const;

/** Status codes HBONE answers a CONNECT with. */
export const HBONE_STATUS = {
  ok: 200,
  badRequest: 400,
  denied: 401,
  unreachable: 503,
} as const;

/** What one HBONE connection may do before it is closed with ENHANCE_YOUR_CALM. */
export const HBONE_LIMITS = {
  /** Streams the peer resets before we answer them (rapid reset, CVE-2023-44487), per window. */
  maxEarlyResets: 100,
  /** The window those resets are counted in, ms. */
  earlyResetWindowMs: 10_000,
  /** Streams refused for the concurrency limit (Node's `maxSessionRejectedStreams`). */
  maxRejectedStreams: 100,
  /** Invalid frames (Node's `maxSessionInvalidFrames`). */
  maxInvalidFrames: 1_000,
  /**
   * Bytes of frames other than DATA (WINDOW_UPDATE, PING, SETTINGS, HEADERS…, and DATA's own
   * frame headers) a peer may send a second, sustained: a token bucket holding at most
   * {@link HBONE_LIMITS.controlByteBurst}, checked each time TLS is handed ciphertext.
   */
  controlBytesPerSecond: 1024 * 1024,
  /** The bucket's size: non-DATA bytes a peer may send at once. */
  controlByteBurst: 256 * 1024,
  /**
   * TLS records handed to TLS (and so to HTTP/2) between two checks of the bucket: at most
   * 8 × 16 KiB of plaintext, 14,563 frames of 9 bytes, pass before a flooding peer is cut.
   */
  recordsPerCheck: 8,
} as const;
