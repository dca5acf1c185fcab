import { DEFAULT_BYPASS_MARK } from '@switchyard/core';

/** The nftables table Switchyard owns in each network namespace (`inet` family). */
export const TABLE_NAME = 'switchyard';

/**
 * Numbers the ruleset and the policy routing share. Every one is a driver option, so a host that
 * already uses one of them can move Switchyard elsewhere.
 */
export interface RoutingSettings {
  /** Packet mark that sends a packet to the local route table: captured traffic and replies to spoofed dials. Default 0x111. */
  tproxyMark: number;
  /** Route table holding `local default dev lo`. Default 133. */
  routeTable: number;
  /** Priority of the `ip rule fwmark … lookup …` rule; below 32766 (main). Default 32000. */
  rulePriority: number;
  /** Bypass mark when the policy names none: shared with the data plane's dials. Default {@link DEFAULT_BYPASS_MARK}. */
  defaultBypassMark: number;
}

/** The defaults of {@link RoutingSettings}; 0x111 and 133 are the values Istio's in-pod rules use. */
export const DEFAULT_ROUTING: RoutingSettings = {
  tproxyMark: 0x111,
  routeTable: 133,
  rulePriority: 32000,
  defaultBypassMark: DEFAULT_BYPASS_MARK,
};
