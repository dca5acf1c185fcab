import {
  type CheckedCniRequest,
  CNI_CODES,
  checkCniRequest,
  cniError,
  passThrough,
  resultAddresses,
} from './cni-request.js';
import { ok, type RuntimeInputs } from './runtime-inputs.js';
import type { RuntimeHandler } from './runtime-socket.js';

/**
 * `POST /v1/cni`: the `switchyard-cni` plugin's ADD, DEL and CHECK. ADD answers only once an
 * opted-in pod's rules and listeners are in place — or with "try again later" and the reason,
 * so the sandbox is not started and kubelet retries; pods that did not opt in pass at once.
 */
export function cniHandler(inputs: RuntimeInputs): RuntimeHandler {
  return async (body) => {
    let r: CheckedCniRequest;
    try {
      r = checkCniRequest(body);
    } catch (error) {
      if (typeof error === 'string') return { status: 400, body: error, contentType: 'application/json' };
      throw error;
    }
    if (r.command === 'DEL') {
      if (r.pod) await inputs.reconciler.withdraw(`${r.pod.namespace}/${r.pod.name}`, r.sandbox);
      return ok('');
    }
    if (r.command === 'CHECK') return check(inputs, r);
    return add(inputs, r);
  };
}

async function add(inputs: RuntimeInputs, r: CheckedCniRequest) {
  if (!r.pod) return ok(passThrough(r));
  const who = `${r.pod.namespace}/${r.pod.name}`;
  const refuse = (why: string) => ({
    status: 503,
    contentType: 'application/json',
    body: cniError(
      r.cniVersion,
      CNI_CODES.tryAgainLater,
      `switchyard could not capture pod ${who}: ${why}; the pod does not start until it is captured (it is retried)`,
    ),
  });
  let workload: Awaited<ReturnType<NonNullable<RuntimeInputs['source']['announce']>>>;
  try {
    workload = await inputs.source.announce?.({
      kind: 'pod',
      ...r.pod,
      network: r.network,
      ips: resultAddresses(r.prevResult),
    });
  } catch (error) {
    return refuse(`the pod could not be looked up (${(error as Error).message})`);
  }
  if (!workload) return ok(passThrough(r));
  const report = await inputs.reconciler.admit(workload, r.sandbox);
  if (report.phase !== 'captured') return refuse(report.error?.message ?? `it is ${report.phase}`);
  inputs.logger.info('captured before start', { workload: who, sandbox: r.sandbox.slice(0, 12) });
  return ok(passThrough(r));
}

function check(inputs: RuntimeInputs, r: CheckedCniRequest) {
  const id = r.pod ? `${r.pod.namespace}/${r.pod.name}` : undefined;
  const report = id ? inputs.reconciler.report().find((w) => w.id === id) : undefined;
  if (!report || report.phase === 'captured') return ok('');
  return {
    status: 503,
    contentType: 'application/json',
    body: cniError(
      r.cniVersion,
      CNI_CODES.tryAgainLater,
      `pod ${id} is ${report.phase}${report.error ? `: ${report.error.message}` : ''}`,
    ),
  };
}
