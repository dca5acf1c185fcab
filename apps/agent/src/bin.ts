#!/usr/bin/env node
import { processIo } from './cli/agent-io.js';
import { guardAgentProcess } from './cli/process-guards.js';
import { run } from './cli/program.js';

const argv = process.argv.slice(2);
const io = processIo();
guardAgentProcess(io, argv);
process.exitCode = await run(argv, io);
