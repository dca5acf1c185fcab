import { RuntimeUnavailableError } from '@switchyard/core';
import type Dockerode from 'dockerode';

/** How long one Engine API call (not the event stream) may take before the daemon counts as not answering, ms. */
export const DOCKER_CALL_TIMEOUT_MS = 10_000;

/** The Docker Engine API client the agent uses (dockerode), connected to one socket. */
export type DockerApi = Dockerode;

/**
 * Connects dockerode to the Engine API on a unix socket (or a Windows named pipe). Dockerode is
 * imported here, on first use, so an agent without Docker never loads it. Connecting is lazy in
 * dockerode too: this checks the daemon answers, so a wrong socket fails at start with its fix.
 *
 * @throws RuntimeUnavailableError when no Docker daemon answers on `socket` within `timeoutMs`.
 */
export async function connectDocker(socket: string, timeoutMs = DOCKER_CALL_TIMEOUT_MS): Promise<DockerApi> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker({ socketPath: socket });
  try {
    // dockerode's ping takes an abort signal; its type definitions do not say so.
    const ping = docker.ping as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping.call(docker, { abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw dockerUnavailable(socket, cause);
  }
  return docker;
}

/** The error for a Docker daemon that does not answer, with what to check. */
export function dockerUnavailable(socket: string, cause: unknown): RuntimeUnavailableError {
  return new RuntimeUnavailableError(
    `no Docker daemon answers on ${socket} (${(cause as Error).message}); start dockerd, or point the agent's docker socket setting at the right one`,
    { cause },
  );
}
