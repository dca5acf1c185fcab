import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputInvalidError } from '@switchyard/core';
import type { Logger } from '@switchyard/dataplane';
import { CertificateStore, issueWorkloadCertificate, loadCertificateDir } from '@switchyard/mesh';
import type { IdentityConfig } from '../config/agent-config.js';
import type { WorkloadPlan } from '../plan/plan.js';

/** Gives each workload its certificate: read from its directory, or issued and rotated from a CA. */
export interface IdentityProvider {
  /** Opens (issuing first in CA mode) the workload's certificate store. The caller closes it. */
  open(plan: WorkloadPlan): Promise<CertificateStore>;
  /** Forgets what was issued for a workload that is gone. */
  forget(id: string): Promise<void>;
}

/** The provider for the configured identity mode; issued certificates live under `stateDir/certs`. */
export function identityProvider(config: IdentityConfig, stateDir: string, logger: Logger): IdentityProvider {
  const issuedDir = (id: string) => join(stateDir, 'certs', id.replace('/', '_'));
  return {
    async open(plan) {
      const fromCa = 'caDir' in config && !plan.identity.certDir;
      const dir = fromCa ? issuedDir(plan.id) : (plan.identity.certDir as string);
      if (fromCa) await issueIfStale(config, dir, plan);
      const store = await CertificateStore.open(dir);
      if (store.current.spiffeId !== plan.identity.spiffeId) {
        store.close();
        throw new InputInvalidError(
          `${dir} holds a certificate for ${store.current.spiffeId}, but ${plan.id} is ${plan.identity.spiffeId}; issue the right one, or set trustDomain to the CA's`,
        );
      }
      if (fromCa) {
        // A third of the validity left: issue the next one; the store reloads it from the folder.
        store.on('expiring', () => {
          void issue(config, dir, plan).then(
            () => logger.info('certificate rotated', { workload: plan.id }),
            (error: Error) =>
              logger.error('certificate rotation failed', { workload: plan.id, reason: error.message }),
          );
        });
      }
      store.on('error', (error) =>
        logger.warn('certificate reload failed', { workload: plan.id, reason: error.message }),
      );
      return store;
    },
    async forget(id) {
      if ('caDir' in config) await rm(issuedDir(id), { recursive: true, force: true });
    },
  };
}

async function issueIfStale(config: IdentityConfig, dir: string, plan: WorkloadPlan): Promise<void> {
  const current = await loadCertificateDir(dir).catch(() => undefined);
  const remaining = current ? current.notAfter.getTime() - Date.now() : 0;
  const lifetime = current ? current.notAfter.getTime() - current.notBefore.getTime() : 1;
  if (current?.spiffeId === plan.identity.spiffeId && remaining > lifetime / 3) return;
  await issue(config, dir, plan);
}

async function issue(config: IdentityConfig, dir: string, plan: WorkloadPlan): Promise<void> {
  if (!('caDir' in config)) return;
  await issueWorkloadCertificate({
    caDir: config.caDir,
    namespace: plan.identity.namespace,
    serviceAccount: plan.identity.serviceAccount,
    outDir: dir,
    hours: config.certHours,
  });
}
