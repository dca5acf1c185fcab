import type { AgentConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { carrierUnavailableReason } from './carriers.js';

/** How the agent's carrier was chosen (shown by `status`, `validate` and the start-up log). */
export interface CarrierChoice {
  /** The carrier workloads run on unless they name one. */
  name: string;
  /** The config names it: it runs, or the agent refuses to start; it never falls back. */
  pinned: boolean;
  /** The default carrier could not run here: which one, and why (the agent runs `name` instead). */
  fellBack?: { from: string; reason: string };
}

/**
 * The carrier the agent runs: the one the config names (pinned), or else the default,
 * `hbone-native`, where the native engine loads, and JavaScript `hbone` (the reference, wire
 * compatible) where it cannot, with the reason. Loads the addon once, starts nothing.
 */
export async function chooseCarrier(
  config: Pick<AgentConfig, 'carrier' | 'carrierPinned'>,
): Promise<CarrierChoice> {
  if (config.carrierPinned) return { name: config.carrier, pinned: true };
  const reason = await carrierUnavailableReason(AGENT_DEFAULTS.carrier);
  if (reason === undefined) return { name: AGENT_DEFAULTS.carrier, pinned: false };
  return {
    name: AGENT_DEFAULTS.fallbackCarrier,
    pinned: false,
    fellBack: { from: AGENT_DEFAULTS.carrier, reason },
  };
}

/** The config with its carrier chosen ({@link chooseCarrier}), and the choice. */
export async function settleCarrier(
  config: AgentConfig,
): Promise<{ config: AgentConfig; choice: CarrierChoice }> {
  const choice = await chooseCarrier(config);
  return { config: { ...config, carrier: choice.name }, choice };
}

/** The choice in words: `hbone-native`, or `hbone (hbone-native cannot run here: …)`. */
export function describeCarrierChoice(c: CarrierChoice): string {
  return c.fellBack ? `${c.name} (${c.fellBack.from} cannot run here: ${c.fellBack.reason})` : c.name;
}
