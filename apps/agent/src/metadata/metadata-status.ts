import type { RelayCounts } from './metadata-relay.js';

/** One client container in {@link MetadataProxyStatus}. */
export interface MetadataClientStatus {
  id: string;
  name: string;
  /**
   * `captured`: its metadata connections go to the proxy (or, with none, are refused);
   * `direct`: no proxy runs and the config lets clients reach the endpoint themselves;
   * `failed`: the capture could not be applied (see `error`; retried).
   */
  phase: 'captured' | 'direct' | 'failed';
  /** Where the capture is applied (`netns:/proc/…/ns/net`, `hns:…`). */
  target?: string;
  /** The relay listeners serving it. */
  listeners: string[];
  error?: string;
}

/** What `switchyard metadata-proxy status` shows (also under `metadataProxy` in the agent's `/status`). */
export interface MetadataProxyStatus {
  docker: string;
  label: string;
  endpoints: string[];
  whenNoProxy: 'refuse' | 'direct';
  /** The container serving metadata requests, if one runs. */
  proxy?: { id: string; name: string; address: string };
  standby: { id: string; name: string }[];
  clients: MetadataClientStatus[];
  ignored: { id: string; name: string; reason: string }[];
  connections: RelayCounts;
  /** Full Docker lists so far (one at start, one per reconnect or periodic resync that changed something). */
  syncs: number;
}
