import type { NativeHandle, RelayAddon } from '../load-addon.js';
import { type AdmissionPolicy, compilable, encodeAdmissionTable } from './encode-table.js';

/** A policy as its owner compiled it (the slot is the table's). */
export type CompiledPolicy = Omit<AdmissionPolicy, 'slot'>;

/**
 * An engine's admission table, as JavaScript keeps it: one slot per owner (a carrier's workload),
 * each holding the allow rules that owner's authorization compiles to. Any change builds a whole
 * new table and installs it in one step: the engine swaps it by pointer, so a connection decides
 * under the old table or the new one, never a mix.
 */
export class AdmissionTable {
  readonly #install: (table: Buffer) => void;
  readonly #slots = new Map<number, { policy: CompiledPolicy; key: string }>();
  #nextSlot = 1;

  constructor(install: (table: Buffer) => void) {
    this.#install = install;
    this.#install(encodeAdmissionTable([]));
  }

  /** A new slot, empty until {@link AdmissionTable.set}: questions naming it are asked of JavaScript. */
  allocate(): number {
    return this.#nextSlot++;
  }

  /**
   * Puts `policy` in `slot`, installing a new table when it changed. Returns false (the slot is
   * emptied: its connections are decided in JavaScript) when the engine cannot hold the policy.
   */
  set(slot: number, policy: CompiledPolicy): boolean {
    if (!compilable(policy)) {
      this.release(slot);
      return false;
    }
    const key = JSON.stringify([policy.selfTrustDomain, policy.rules, policy.streams ?? null]);
    if (this.#slots.get(slot)?.key === key) return true;
    this.#slots.set(slot, { policy, key });
    this.#reinstall();
    return true;
  }

  /** Empties `slot` (its owner closed). */
  release(slot: number): void {
    if (this.#slots.delete(slot)) this.#reinstall();
  }

  #reinstall(): void {
    this.#install(encodeAdmissionTable([...this.#slots].map(([slot, { policy }]) => ({ slot, ...policy }))));
  }
}

/** The table of an engine handle, installed through the addon. */
export function engineAdmissionTable(addon: RelayAddon, handle: NativeHandle): AdmissionTable {
  return new AdmissionTable((table) => addon.setAdmission(handle, table));
}
