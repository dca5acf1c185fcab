import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchyardError } from '@switchyard/core';

/** Another agent already runs on this node (it holds the lock in the state directory). */
export class AgentRunningError extends SwitchyardError {
  readonly code = 'SWY_ERR_AGENT_RUNNING';
  readonly kind = 'failure';
}

/** Who holds the lock. */
export interface LockHolder {
  pid: number;
  startedAt: string;
  admin: string;
}

/** The single-instance lock: `stateDir/agent.lock`, released on stop. */
export interface InstanceLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the node's single-instance lock. A lock left by an agent that died (kill -9) is taken
 * over: its process is gone, or is no longer an agent.
 *
 * @throws AgentRunningError naming the running agent's pid, start time and admin address.
 */
export async function acquireLock(
  stateDir: string,
  me: Omit<LockHolder, 'pid' | 'startedAt'>,
): Promise<InstanceLock> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, 'agent.lock');
  const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString(), ...me };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o644);
      await file.writeFile(JSON.stringify(holder));
      await file.close();
      return { path, release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    const other = await readHolder(path);
    if (other && other.pid !== process.pid && isAgent(other.pid))
      throw new AgentRunningError(
        `another switchyard-agent is running on this node: pid ${other.pid}, started ${other.startedAt}, admin ${other.admin} (lock ${path}); stop it first, or give this one another stateDir`,
      );
    await rm(path, { force: true });
  }
  throw new AgentRunningError(`cannot take the lock ${path}: another agent is starting at the same time`);
}

/** The holder recorded in a lock file, if it can be read. */
export async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

function isAgent(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent');
  } catch {
    return false;
  }
}
