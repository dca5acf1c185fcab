import type { Http2Session } from 'node:http2';
import type { Logger } from '@switchyard/dataplane';
import { HBONE_SETTINGS } from './settings.js';

/**
 * PINGs a session every 10 s and destroys it when an answer takes more than 20 s, on both ends
 * (ztunnel's keepalive). Never pings a session that is gone: a ping on a destroyed session throws,
 * and that throw used to kill the process.
 */
export function keepAlive(session: Http2Session, logger: Logger): void {
  const interval = setInterval(() => {
    // A closing session (GOAWAY sent, streams finishing) is still pinged: a dead peer must not
    // hold a drain to its deadline.
    if (session.destroyed) return clearInterval(interval);
    const deadline = setTimeout(() => {
      logger.debug('HBONE peer did not answer a PING in time', {
        timeoutMs: HBONE_SETTINGS.keepaliveTimeoutMs,
      });
      session.destroy();
    }, HBONE_SETTINGS.keepaliveTimeoutMs);
    deadline.unref();
    try {
      session.ping((error) => {
        clearTimeout(deadline);
        if (error && !session.destroyed) session.destroy();
      });
    } catch (error) {
      clearTimeout(deadline);
      logger.debug('HBONE PING failed', { reason: (error as Error).message });
      session.destroy();
    }
  }, HBONE_SETTINGS.keepaliveIntervalMs);
  interval.unref();
  session.once('close', () => clearInterval(interval));
}
