import { availableParallelism } from 'node:os';

/** Engine threads when `threads` is not given: one per core. */
export const defaultThreads = (): number => availableParallelism();

/** Idle timeout of a relayed connection, in milliseconds (0 disables it). */
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/** How long a TLS handshake may take, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** How long JavaScript may take to accept or reject a handshaken peer before it is rejected. */
export const DEFAULT_DECISION_TIMEOUT_MS = 10_000;

/** An HTTP/2 connection without a stream this long is closed with GOAWAY (ms; ztunnel's pool idle). */
export const DEFAULT_H2_IDLE_TIMEOUT_MS = 5 * 60_000;

/** Pipe size for splice relays, in bytes: larger pipes move more per system call. */
export const DEFAULT_PIPE_SIZE = 256 * 1024;

/**
 * Environment variable that selects the build of the addon: `release` (the default) or `asan`
 * (AddressSanitizer). Any other value is refused when the engine loads.
 */
export const ADDON_BUILD_ENV = 'SWITCHYARD_RELAY_NATIVE_BUILD';

/**
 * An engine thread whose loop has not turned for this long is stalled (ms): it is logged,
 * counted, and the data plane stops being ready until it turns again. An idle loop turns every
 * 250 ms; a busy one after every bounded batch of work.
 */
export const DEFAULT_STALL_THRESHOLD_MS = 5_000;
