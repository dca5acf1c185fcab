import type { Socket } from 'node:net';
import type { CompiledPeerCheck, CompiledServerCheck } from '@switchyard/dataplane/carrier';
import { admissionString, RULE_FIELDS } from '../admission/encode-table.js';
import type { AdmissionQuestion, RelayEngine } from '../relay-engine.js';

/**
 * One carrier's slot in its engine's admission table for one direction: the authorization its
 * workload compiles to, replaced when the policy or our identity changes, and the question each
 * handshake asks with it. A slot the engine cannot hold asks nothing: JavaScript decides.
 */
export class AdmissionSlot {
  readonly #engine: RelayEngine;
  readonly #slot: number;
  /** The rules the slot holds now (a default policy is built anew per check: compared by value). */
  #rules: CompiledPeerCheck['rules'] | undefined;
  #selfTrustDomain = '';
  #usable = false;

  constructor(engine: RelayEngine) {
    this.#engine = engine;
    this.#slot = engine.admission.allocate();
  }

  /**
   * A client's question: the server `check` decides, relaying to `plain` once admitted; or
   * undefined when the engine cannot decide it (JavaScript then does, after the handshake).
   */
  server(check: CompiledServerCheck, plain: Socket): AdmissionQuestion | undefined {
    if (!this.#hold(check) || (check.expected && !check.expected.every(admissionString))) return undefined;
    return {
      slot: this.#slot,
      pinned: true,
      expected: check.expected,
      trustDomainFallback: check.trustDomainFallback,
      plain,
    };
  }

  /** A server's question: a peer `check` refuses is refused on the engine; others go to JavaScript. */
  peer(check: CompiledPeerCheck | undefined): AdmissionQuestion | undefined {
    if (!check || !this.#hold(check)) return undefined;
    return { slot: this.#slot, pinned: false, trustDomainFallback: false };
  }

  /** Empties the slot (the carrier closed). */
  release(): void {
    this.#engine.admission.release(this.#slot);
  }

  /** Puts `check` in the slot when it changed; whether the engine holds it. */
  #hold(check: CompiledPeerCheck): boolean {
    if (check.selfTrustDomain !== this.#selfTrustDomain || !sameRules(check.rules, this.#rules)) {
      this.#rules = check.rules;
      this.#selfTrustDomain = check.selfTrustDomain;
      this.#usable = this.#engine.admission.set(this.#slot, {
        selfTrustDomain: check.selfTrustDomain,
        rules: check.rules,
      });
    }
    return this.#usable;
  }
}

/** Whether two rule lists say the same, field by field. */
function sameRules(a: CompiledPeerCheck['rules'], b: CompiledPeerCheck['rules'] | undefined): boolean {
  if (a === b) return true;
  if (!b || a.length !== b.length) return false;
  return a.every((rule, i) => RULE_FIELDS.every((f) => rule[f] === b[i]?.[f]));
}
