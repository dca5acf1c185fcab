import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Asks V8 for one full collection that also gives memory back to the system (it shrinks the
 * young generation and returns free pages). The start lists the whole cluster, leaving several
 * times the live heap committed, which V8 keeps while the agent is quiet; every node pays it. Meant
 * to run once, after the first sync. Node has no other API for it: `gc` is reached the way the
 * `--expose-gc` flag would expose it. Returns false where that is not possible (nothing changes).
 */
export function releaseMemory(): boolean {
  try {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as Collect;
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    return true;
  } catch {
    return false;
  }
}
