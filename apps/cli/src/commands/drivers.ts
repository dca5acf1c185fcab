import type { DriverRegistry, ProbeResult } from '@switchyard/core';
import { type CliIo, printJson } from '../io.js';

/** One row of `switchyard drivers`. */
export interface DriverReport {
  name: string;
  description: string;
  origin: string;
  specifier?: string;
  usable: boolean;
  problems: ProbeResult['problems'];
  details: ProbeResult['details'];
}

/** Loads and probes every known driver; a driver that fails to load is reported, not fatal. */
export async function reportDrivers(registry: DriverRegistry): Promise<DriverReport[]> {
  const reports: DriverReport[] = [];
  for (const name of registry.names()) {
    const source = registry.source(name);
    const base = {
      name,
      origin: source?.origin ?? 'builtin',
      ...(source?.specifier ? { specifier: source.specifier } : {}),
    };
    try {
      const definition = await registry.definition(name);
      const probe = await (await definition.create()).probe();
      reports.push({ ...base, description: definition.description, ...probe });
    } catch (error) {
      reports.push({
        ...base,
        description: '',
        usable: false,
        problems: [{ message: (error as Error).message, fix: 'install or rebuild the driver package' }],
        details: {},
      });
    }
  }
  return reports;
}

/** `switchyard drivers`: each driver, whether it can work here, and if not, why and how to fix it. */
export async function driversCommand(registry: DriverRegistry, io: CliIo, json: boolean): Promise<number> {
  const reports = await reportDrivers(registry);
  if (json) {
    printJson(io, { drivers: reports });
    return 0;
  }
  const width = Math.max(6, ...reports.map((r) => r.name.length));
  io.stdout(`${'DRIVER'.padEnd(width)}  USABLE  SOURCE\n`);
  for (const r of reports) {
    io.stdout(
      `${r.name.padEnd(width)}  ${(r.usable ? 'yes' : 'no').padEnd(6)}  ${r.origin}${r.specifier ? ` ${r.specifier}` : ''}\n`,
    );
    if (r.description) io.stdout(`${' '.repeat(width)}  ${r.description}\n`);
    for (const p of r.problems)
      io.stdout(`${' '.repeat(width)}  ✗ ${p.message}\n${' '.repeat(width)}    fix: ${p.fix}\n`);
  }
  return 0;
}
