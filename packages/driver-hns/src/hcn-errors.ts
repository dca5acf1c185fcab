import { ApplyFailedError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Names of the HCN HRESULTs (facility 0x3B), as winerror.h spells them. */
export const HCN_ERROR_NAMES: Readonly<Record<number, string>> = {
  2151350273: 'HCN_E_NETWORK_NOT_FOUND',
  2151350274: 'HCN_E_ENDPOINT_NOT_FOUND',
  2151350275: 'HCN_E_LAYER_NOT_FOUND',
  2151350276: 'HCN_E_SWITCH_NOT_FOUND',
  2151350277: 'HCN_E_SUBNET_NOT_FOUND',
  2151350278: 'HCN_E_ADAPTER_NOT_FOUND',
  2151350279: 'HCN_E_PORT_NOT_FOUND',
  2151350280: 'HCN_E_POLICY_NOT_FOUND',
  2151350281: 'HCN_E_VFP_PORTSETTING_NOT_FOUND',
  2151350282: 'HCN_E_INVALID_NETWORK',
  2151350283: 'HCN_E_INVALID_NETWORK_TYPE',
  2151350284: 'HCN_E_INVALID_ENDPOINT',
  2151350285: 'HCN_E_INVALID_POLICY',
  2151350286: 'HCN_E_INVALID_POLICY_TYPE',
  2151350287: 'HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION',
  2151350288: 'HCN_E_NETWORK_ALREADY_EXISTS',
  2151350289: 'HCN_E_LAYER_ALREADY_EXISTS',
  2151350290: 'HCN_E_POLICY_ALREADY_EXISTS',
  2151350291: 'HCN_E_PORT_ALREADY_EXISTS',
  2151350292: 'HCN_E_ENDPOINT_ALREADY_ATTACHED',
  2151350293: 'HCN_E_REQUEST_UNSUPPORTED',
  2151350294: 'HCN_E_MAPPING_NOT_SUPPORTED',
  2151350295: 'HCN_E_DEGRADED_OPERATION',
  2151350296: 'HCN_E_SHARED_SWITCH_MODIFICATION',
  2151350297: 'HCN_E_GUID_CONVERSION_FAILURE',
  2151350298: 'HCN_E_REGKEY_FAILURE',
  2151350299: 'HCN_E_INVALID_JSON',
  2151350300: 'HCN_E_INVALID_JSON_REFERENCE',
  2151350301: 'HCN_E_ENDPOINT_SHARING_DISABLED',
  2151350302: 'HCN_E_INVALID_IP',
  2151350303: 'HCN_E_SWITCH_EXTENSION_NOT_FOUND',
  2151350304: 'HCN_E_MANAGER_STOPPED',
  2151350305: 'HCN_E_NAMESPACE_NOT_FOUND',
  2147942487: 'E_INVALIDARG',
  2147500035: 'E_POINTER',
  2147942405: 'E_ACCESSDENIED',
};

/** `HCN_E_POLICY_ALREADY_EXISTS (0x803B0012)` for a HRESULT. */
export function describeHresult(hresult: number): string {
  const unsigned = hresult >>> 0;
  const hex = `0x${unsigned.toString(16).toUpperCase().padStart(8, '0')}`;
  return `${HCN_ERROR_NAMES[unsigned] ?? 'HRESULT'} (${hex})`;
}

/**
 * A call into computenetwork.dll failed: a failing HRESULT, or an error record (which HNS can
 * return even beside S_OK). Carries the HRESULT, its name, the record's text and the call.
 */
export class HcnError extends ApplyFailedError {
  /** The HRESULT as an unsigned number (0x803B0012). */
  readonly hresult: number;
  /** `HCN_E_POLICY_ALREADY_EXISTS`, or `HRESULT` for codes without a name here. */
  readonly hcnCode: string;
  /** Which C function failed. */
  readonly call: string;
  /** The error record HNS returned, if any. */
  readonly record: string | undefined;

  constructor(
    call: string,
    hresult: number,
    record: string | undefined,
    options: SwitchyardErrorOptions = {},
  ) {
    const unsigned = hresult >>> 0;
    const detail = record ? `: ${extractMessage(record)}` : '';
    super(`${call} failed with ${describeHresult(unsigned)}${detail}`, options);
    this.hresult = unsigned;
    this.hcnCode = HCN_ERROR_NAMES[unsigned] ?? 'HRESULT';
    this.call = call;
    this.record = record;
  }
}

function extractMessage(record: string): string {
  try {
    const parsed = JSON.parse(record) as { Error?: string };
    return parsed.Error ?? record;
  } catch {
    return record;
  }
}
