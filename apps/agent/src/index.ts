/**
 * `@switchyard/agent` — the node agent (`switchyard-agent`): one process per node that takes
 * workloads from a source (a watched file, or the Kubernetes API), plans what each needs (capture
 * rules, listeners, identity, carrier), reconciles the node to that plan with a capture driver and
 * one {@link DataPlane}, and reports it (`/healthz`, `/readyz`, `/metrics`, `/status`).
 *
 * @example
 * ```ts
 * import { Agent, loadConfig } from '@switchyard/agent';
 *
 * const agent = await Agent.start(await loadConfig('/etc/switchyard/agent.yaml'));
 * console.log(agent.status().workloads);   // what is captured where, and why not
 * process.once('SIGTERM', () => void agent.stop());   // drains; capture rules stay (fail closed)
 * ```
 *
 * @module
 */
export { Agent, type AgentOptions, type AgentStatus, loadDriver } from './agent.js';
export { type CheckResult, preflight } from './check/preflight.js';
export { type AgentIo, processIo } from './cli/agent-io.js';
export { agentProgram, run } from './cli/program.js';
export {
  askRunningAgent,
  type RunningAgent,
  type RunningAgentAnswer,
} from './cli/running-agent.js';
export { runningAgentLine } from './cli/version-command.js';
export type {
  AgentConfig,
  CarrierName,
  IdentityConfig,
  MetadataEndpoint,
  MetadataProxyConfig,
  SourceConfig,
} from './config/agent-config.js';
export { AGENT_DEFAULTS } from './config/defaults.js';
export type { ConfigIssue } from './config/issues.js';
export { loadConfig, validateConfig } from './config/validate-config.js';
export type { MetadataClientStatus, MetadataProxyStatus } from './metadata/metadata-status.js';
export { AgentRunningError } from './ops/instance-lock.js';
export { plan, type ResolvedNetwork, type WorkloadPlan } from './plan/plan.js';
export type { WorkloadReport } from './reconcile/workload-record.js';
export { parseWorkloadFile } from './sources/parse-workload-file.js';
export type { SourceSink, Workload, WorkloadNetwork, WorkloadSource } from './sources/workload.js';
export { type UninstallResult, uninstall } from './uninstall.js';
