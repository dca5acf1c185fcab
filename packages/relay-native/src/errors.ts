import { SwitchyardError } from '@switchyard/core';

/**
 * A socket could not be handed to the engine: it is not a connected TCP socket with a
 * descriptor, or Node had already read bytes from it (create servers with `pauseOnConnect: true`
 * and hand sockets over before reading).
 */
export class RelayHandOffError extends SwitchyardError {
  readonly code = 'SWY_ERR_RELAY_HANDOFF';
  readonly kind = 'input';
}

/** The certificate chain, key or CA bundle given to the engine could not be used by OpenSSL. */
export class RelayCredentialsError extends SwitchyardError {
  readonly code = 'SWY_ERR_RELAY_CREDENTIALS';
  readonly kind = 'input';
}

/** The engine was used after `close()`. */
export class RelayEngineClosedError extends SwitchyardError {
  readonly code = 'SWY_ERR_RELAY_CLOSED';
  readonly kind = 'failure';
}

/** Every error class this package throws, for documentation checks. */
export const RELAY_ERROR_CLASSES = [
  RelayHandOffError,
  RelayCredentialsError,
  RelayEngineClosedError,
] as const;
