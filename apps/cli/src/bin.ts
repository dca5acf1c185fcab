#!/usr/bin/env node
import { processIo } from './io.js';
import { guardProcess } from './process-guards.js';
import { run } from './program.js';

const argv = process.argv.slice(2);
const io = processIo();
guardProcess(io, argv.includes('--json'));
process.exitCode = await run(argv, io);
