import type { CarrierChoice } from '../carriers/choose-carrier.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { AgentStatus } from './agent-status.js';
import { AGENT_VERSION } from './agent-version.js';

/**
 * What the agent is doing before it is ready, and the last rejected update of its source: the
 * admin `/status` answers from it while the agent starts (waiting for an API can take long), so
 * `switchyard-agent status` says what it waits for instead of showing nothing.
 */
export class StartProgress {
  /** What start-up waits for now. */
  starting = 'the driver';
  /** The driver's name, once loaded. */
  driver: string;
  sourceProblem: AgentStatus['sourceProblem'];
  readonly #config: AgentConfig;
  readonly #carrier: CarrierChoice | undefined;

  constructor(config: AgentConfig, carrier?: CarrierChoice) {
    this.#config = config;
    this.#carrier = carrier;
    this.driver = config.driver;
  }

  /** The status of an agent that is not running yet: no workloads, not ready, and why. */
  status(): AgentStatus {
    return {
      node: this.#config.node,
      pid: process.pid,
      version: AGENT_VERSION,
      source: this.#config.source.kind,
      driver: this.driver,
      ...(this.#carrier ? { carrier: this.#carrier } : {}),
      ready: false,
      starting: this.starting,
      ...(this.sourceProblem ? { sourceProblem: this.sourceProblem } : {}),
      workloads: [],
    };
  }
}
