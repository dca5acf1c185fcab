import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, issueWorkloadCertificate } from '../dev-ca.js';

/** A throwaway PKI for tests: a CA for `cluster.local`, one for `other.local`, and named workloads. */
export interface TestPki {
  root: string;
  /**
   * Issues (or reissues) a workload certificate in its own directory, named after the workload,
   * and returns that directory. Reusing a name replaces that workload's certificate.
   */
  issue(name: string, namespace: string, serviceAccount?: string, ca?: 'cluster' | 'other'): Promise<string>;
  dispose(): Promise<void>;
}

/** Makes a {@link TestPki} under a new temporary directory. */
export async function createTestPki(): Promise<TestPki> {
  const root = await mkdtemp(join(tmpdir(), 'swy-pki-'));
  await initCa({ dir: join(root, 'ca-cluster'), trustDomain: 'cluster.local' });
  await initCa({ dir: join(root, 'ca-other'), trustDomain: 'other.local' });
  return {
    root,
    async issue(name, namespace, serviceAccount = name, ca = 'cluster') {
      const outDir = join(root, name);
      await issueWorkloadCertificate({ caDir: join(root, `ca-${ca}`), namespace, serviceAccount, outDir });
      return outDir;
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}
