import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import type { RuntimeStartRequest } from '@switchyard/cni';
import { ok, type RuntimeInputs } from './runtime-inputs.js';
import type { RuntimeHandler } from './runtime-socket.js';

/** Container ids as runc takes them. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;
/** How long `runc state` may take, ms. */
const STATE_TIMEOUT_MS = 5000;

/**
 * `POST /v1/runtime/start`: the `switchyard-runtime` wrapper's question before `runc start` —
 * the container's namespaces exist and its network is configured, its program has not run. An
 * opted-in container (the source's label; a metadata client) is captured now and the answer
 * waits for it; a refusal stops the start, so the container never runs uncaptured.
 */
export function runtimeStartHandler(inputs: RuntimeInputs, runc = 'runc'): RuntimeHandler {
  return async (body) => {
    const b = (body ?? {}) as Partial<RuntimeStartRequest>;
    if (typeof b.id !== 'string' || !CONTAINER_ID.test(b.id))
      return { status: 400, body: `not a container id: ${JSON.stringify(b.id)}\n` };
    if (typeof b.root !== 'string' || !isAbsolute(b.root) || b.root.split('/').includes('..'))
      return {
        status: 400,
        body: `the runtime root must be an absolute path, not ${JSON.stringify(b.root)}\n`,
      };
    const pid = await initPid(runc, b.root, b.id);
    const workload = await inputs.source.announce?.({ kind: 'container', id: b.id, pid });
    if (workload) {
      const report = await inputs.reconciler.admit(workload, `${b.id}@${pid}`);
      if (report.phase !== 'captured')
        return {
          status: 503,
          body: `container ${workload.name} not started: switchyard could not capture it (${report.error?.message ?? report.phase})\n`,
        };
      inputs.logger.info('captured before start', { workload: workload.id, container: b.id.slice(0, 12) });
    }
    await inputs.metadata?.announce(b.id, pid);
    return ok('');
  };
}

/** The container's first process, from the runtime's own state (`runc state`). */
async function initPid(runc: string, root: string, id: string): Promise<number> {
  const { stdout } = await promisify(execFile)(runc, ['--root', root, 'state', id], {
    timeout: STATE_TIMEOUT_MS,
  });
  const pid = (JSON.parse(stdout) as { pid?: unknown }).pid;
  if (typeof pid !== 'number' || pid <= 0) throw new Error(`${runc} state ${id} reports no process`);
  return pid;
}
