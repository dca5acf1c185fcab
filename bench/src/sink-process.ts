// The bench's server in a process of its own: a sink for bulk data that echoes small messages.
import { startSink } from './load.js';

const sink = await startSink(process.argv[2] ?? '127.0.0.1');
process.stdout.write(`READY ${sink.port}\n`);
process.once('SIGTERM', () => {
  void sink.close().then(() => process.exit(0));
});
