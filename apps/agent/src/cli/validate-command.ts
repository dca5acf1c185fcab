import { dirname } from 'node:path';
import { chooseCarrier, describeCarrierChoice } from '../carriers/choose-carrier.js';
import { readDocument } from '../config/read-document.js';
import { loadConfig } from '../config/validate-config.js';
import { parseWorkloadFile } from '../sources/parse-workload-file.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/** Checks the config, and the workload file of the `file` source, without starting anything. */
export async function validateCommand(
  configPath: string,
  io: AgentIo,
  options: { json?: boolean } = {},
): Promise<number> {
  const config = await loadConfig(configPath);
  const carrier = await chooseCarrier(config);
  const s = config.source;
  const workloads =
    s.kind === 'file'
      ? parseWorkloadFile(await readDocument(s.path, 'workload file'), dirname(s.path), s.path)
      : undefined;
  const counted = workloads ? `; ${workloads.length} workload${workloads.length === 1 ? '' : 's'}` : '';
  if (options.json) {
    const report = {
      valid: true,
      config: configPath,
      source: s.kind,
      driver: config.driver,
      carrier: carrier.name,
      ...(carrier.fellBack ? { carrierFallback: carrier.fellBack } : {}),
      ...(workloads ? { workloads: workloads.length } : {}),
    };
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout(
    `${configPath}: valid (source ${s.kind}, driver ${config.driver}, carrier ${describeCarrierChoice(carrier)}${counted})\n`,
  );
  return EXIT.ok;
}
