import { AGENT_PATHS } from '@switchyard/cni';
import { cniHandler } from './cni-handler.js';
import type { RuntimeInputs } from './runtime-inputs.js';
import { startRuntimeSocket } from './runtime-socket.js';
import { runtimeStartHandler } from './runtime-start-handler.js';

/**
 * Opens the socket the container runtime asks for capture on — the CNI plugin's requests and
 * the runtime wrapper's — at `path`, mode 0600.
 */
export function serveRuntime(path: string, inputs: RuntimeInputs): Promise<{ close(): Promise<void> }> {
  return startRuntimeSocket(
    path,
    { [AGENT_PATHS.cni]: cniHandler(inputs), [AGENT_PATHS.runtimeStart]: runtimeStartHandler(inputs) },
    inputs.logger,
  );
}
