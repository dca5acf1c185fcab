// Preloaded into the proxy by the attack suites only (node --expose-gc --import this file; never
// part of the product): on SIGUSR2 a full garbage collection, then one line on standard error.
// The suites measure the memory a proxy still holds after an attack, not garbage V8 has merely
// not collected yet (unforced, resident memory follows the collector's timing, not leaks).
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  process.stderr.write(`COLLECTED ${JSON.stringify(process.memoryUsage())}\n`);
});
