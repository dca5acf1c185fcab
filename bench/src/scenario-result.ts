/** One scenario's results; NaN where a measure was not taken. */
export interface ScenarioResult {
  scenario: string;
  description: string;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  throughput1Gbps: number;
  throughput8Gbps: number;
  rttP50Us: number;
  rttP99Us: number;
  /** Round trip p50 minus direct's, measured in the same run. */
  addedRttP50Us: number;
  connectionsPerSecond: number;
  /**
   * CPU milliseconds of all the scenario's proxies per new connection, during the connection-rate
   * run: what a connection costs, whatever else the machine is doing (the rate moves with load).
   */
  cpuMsPerConnection: number;
  /** CPU seconds of all the scenario's proxies per GB moved, during the throughput runs. */
  cpuSecondsPerGB: number;
  /** Idle connections held open, and the largest proxy's resident memory then, MB. */
  idle: { connections: number; rssMb: number }[];
}
