import type { MetadataCaller } from '../config/agent-config.js';
/** The outcomes of a captured metadata connection, as status and metrics count them. */
export type RelayOutcome = 'relayed' | 'refused' | 'failed';

/** How captured metadata connections ended, counted for status. */
export interface RelayCounts {
  relayed: number;
  /** Refused: no proxy runs (fail closed), or a destination that is not a metadata endpoint. */
  refused: number;
  /** The proxy container could not be reached. */
  failed: number;
}

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
  /** The data plane listeners serving it (its `forward` workload's). */
  listeners: string[];
  /** Why the capture failed (with `failed`). */
  error?: string;
  /** Failed attempts in a row (with `failed`); the next one follows the agent's retry backoff. */
  attempts?: number;
}

/** What `switchyard metadata-proxy status` shows (also under `metadataProxy` in the agent's `/status`). */
export interface MetadataProxyStatus {
  docker: string;
  label: string;
  endpoints: string[];
  whenNoProxy: 'refuse' | 'direct';
  /** How the proxy learns who called (`agent`, `source`, `proxy-v2`); absent from agents before it. */
  caller?: MetadataCaller;
  /** The container serving metadata requests, if one runs. */
  proxy?: { id: string; name: string; address: string };
  standby: { id: string; name: string }[];
  clients: MetadataClientStatus[];
  ignored: { id: string; name: string; reason: string }[];
  connections: RelayCounts;
  /** Full Docker lists so far (one at start, one per reconnect or periodic resync that changed something). */
  syncs: number;
}
