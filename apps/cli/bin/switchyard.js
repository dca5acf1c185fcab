#!/usr/bin/env node
// The `switchyard` command. A file that exists before the build, so package managers link the
// command at install time in a fresh checkout (they skip a bin whose target is missing); the
// program itself is the built dist/bin.js.
import '../dist/bin.js';
