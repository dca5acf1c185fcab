// The data plane's errors live in @switchyard/core with every other code, so one table
// (docs/errors.md) and one brand check cover them; re-exported here for convenience.
export {
  HboneTunnelError,
  UpstreamIdentityError,
  UpstreamTlsError,
  WorkloadFailedError,
  WorkloadInvalidError,
} from '@switchyard/core';
