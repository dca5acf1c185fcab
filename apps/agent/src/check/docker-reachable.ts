import type { AgentConfig } from '../config/agent-config.js';
import { connectDocker } from '../docker/docker-client.js';
import type { CheckResult } from './check-result.js';

/** How long preflight waits for Docker to answer, ms. */
const CHECK_TIMEOUT_MS = 3000;

/**
 * Preflight of what talks to Docker (the `docker` source, metadata proxying): the Engine API
 * answers on each configured socket, and which Docker it is.
 */
export async function dockerReachable(config: AgentConfig): Promise<CheckResult[]> {
  const sockets = new Set<string>();
  if (config.source.kind === 'docker') sockets.add(config.source.socket);
  if (config.metadataProxy) sockets.add(config.metadataProxy.docker);
  const results: CheckResult[] = [];
  for (const socket of sockets) {
    try {
      const docker = await connectDocker(socket, CHECK_TIMEOUT_MS);
      const v = await docker.version(); // it has just answered the ping
      results.push({
        name: 'docker',
        ok: true,
        blocking: false,
        message: `Docker ${v.Version} (API ${v.ApiVersion}) at ${socket}`,
      });
    } catch (error) {
      results.push({
        name: 'docker',
        ok: false,
        blocking: true,
        message: (error as Error).message,
        fix: 'start dockerd, or set source.socket / metadataProxy.docker to its socket',
      });
    }
  }
  return results;
}
