import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@switchyard/dataplane';
import { readDocument } from '../config/read-document.js';
import { readWorkloadFile } from './parse-workload-file.js';
import type { SourceSink, WorkloadSource } from './workload.js';

/** How long a burst of file events settles before the file is read again, ms. */
const SETTLE_MS = 50;

/**
 * The `file` source (the embedded default): a YAML or JSON workload file, watched. A change that
 * does not parse is reported and ignored: the workloads already running stay as they are.
 */
export function fileSource(path: string, logger: Logger): WorkloadSource {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const read = async (sink: SourceSink) => {
    const file = readWorkloadFile(await readDocument(path, 'workload file'), dirname(path), path);
    const { workloads } = file;
    const key = JSON.stringify(file);
    if (key !== last) {
      last = key;
      logger.info('workload file read', { path, workloads: workloads.length });
    }
    // Policies first: a workload the snapshot adds is authorized by the policies it came with.
    sink.policies?.(file.policies ?? []);
    sink.snapshot(workloads);
  };
  return {
    kind: 'file',
    async start(sink) {
      await read(sink);
      // The folder, not the file: editors and ConfigMap mounts replace the file by renaming, which
      // ends a watch on the file itself. fs.watch is inotify here, so no polling library is needed.
      watcher = watch(dirname(path), (_event, name) => {
        if (name !== null && name !== basename(path) && !name.startsWith('..')) return;
        clearTimeout(timer);
        timer = setTimeout(() => read(sink).catch((error: Error) => sink.problem(error.message)), SETTLE_MS);
      });
      watcher.on('error', (error) => sink.problem(`cannot watch ${path}: ${error.message}`));
    },
    async close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
