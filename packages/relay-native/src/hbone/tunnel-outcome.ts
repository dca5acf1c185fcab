import type { RelayOutcome } from '@switchyard/dataplane/carrier';
import type { TunnelResult } from '../h2-session.js';

/** A tunnel's end, as the data plane reports it (`up` from the peer towards the app). */
export const tunnelOutcome = (r: TunnelResult): RelayOutcome =>
  r.reason === 'eof'
    ? { up: r.up, down: r.down }
    : { up: r.up, down: r.down, code: r.reason, reason: `stream ended (${r.reason}, code ${r.code})` };
