import type { Socket } from 'node:net';
import type { CompiledServerCheck } from '@switchyard/dataplane/carrier';
import { admissionString } from '../admission/encode-table.js';
import type { AdmissionQuestion, RelayEngine } from '../relay-engine.js';

/**
 * One carrier's slot in its engine's admission table: the outbound authorization its workload
 * compiles to, replaced when the policy or our identity changes, and the question each dial
 * asks with it (what the resolver expects of the destination now).
 */
export class OutboundAdmission {
  readonly #engine: RelayEngine;
  readonly #slot: number;
  /** The rules the slot holds now (compared by reference: a policy change brings new ones). */
  #rules: CompiledServerCheck['rules'] | undefined;
  #selfTrustDomain = '';
  #usable = false;

  constructor(engine: RelayEngine) {
    this.#engine = engine;
    this.#slot = engine.admission.allocate();
  }

  /**
   * The question for a dial whose server `check` decides, relaying to `plain` once admitted; or
   * undefined when the engine cannot decide it (JavaScript then does, after the handshake).
   */
  question(check: CompiledServerCheck, plain: Socket): AdmissionQuestion | undefined {
    if (check.rules !== this.#rules || check.selfTrustDomain !== this.#selfTrustDomain) {
      this.#rules = check.rules;
      this.#selfTrustDomain = check.selfTrustDomain;
      this.#usable = this.#engine.admission.set(this.#slot, {
        selfTrustDomain: check.selfTrustDomain,
        rules: check.rules,
      });
    }
    if (!this.#usable || (check.expected && !check.expected.every(admissionString))) return undefined;
    return {
      slot: this.#slot,
      pinned: true,
      expected: check.expected,
      trustDomainFallback: check.trustDomainFallback,
      plain,
    };
  }

  /** Empties the slot (the carrier closed). */
  release(): void {
    this.#engine.admission.release(this.#slot);
  }
}
