import { access, constants, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type AppliedPolicy,
  type ApplyOptions,
  type ApplyResult,
  assertTargetKind,
  formatTarget,
  type NormalizedPolicy,
  normalizePolicy,
  type ProbeResult,
  type RedirectionDriver,
  type Target,
} from '@switchyard/core';
import { loopbackSocketOps } from '@switchyard/core/memory';

/** Options of {@link filesDriver}. */
export interface FilesDriverOptions {
  /**
   * Directory the policies are written to, one folder per target and one JSON file per policy.
   * Default: `$SWITCHYARD_FILES_DIR`, else `<tmpdir>/switchyard-files`.
   */
  directory?: string;
}

const render = (policy: NormalizedPolicy) => `${JSON.stringify(policy, null, 2)}\n`;

async function nearestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    try {
      await access(p);
      return p;
    } catch {
      if (dirname(p) === p) return p;
    }
  }
}

/**
 * A driver that hands policies to another system (a config agent, a firewall manager) as files:
 * `<directory>/<target>/<id>.json`. Writes are atomic (write a temporary file, then rename), and
 * `list` reads the directory back, so the state lives outside the process as a real driver's would.
 */
export function filesDriver(options: FilesDriverOptions = {}): RedirectionDriver {
  const root = options.directory ?? process.env.SWITCHYARD_FILES_DIR ?? join(tmpdir(), 'switchyard-files');
  const folderOf = (target: Target) => join(root, encodeURIComponent(formatTarget(target)));

  const driver: RedirectionDriver = {
    name: 'files',
    targetKinds: ['netns', 'hns-endpoint'],
    capabilities: { multiplePolicies: true },
    socketOps: loopbackSocketOps(),

    async probe(): Promise<ProbeResult> {
      const existing = await nearestExisting(root);
      const isDirectory = (await stat(existing)).isDirectory();
      const writable =
        isDirectory &&
        (await access(existing, constants.W_OK).then(
          () => true,
          () => false,
        ));
      if (writable) return { usable: true, problems: [], details: { directory: root } };
      return {
        usable: false,
        problems: [
          {
            message: `${existing} is ${isDirectory ? 'not writable' : 'not a directory'}, so ${root} cannot be created`,
            fix: 'point SWITCHYARD_FILES_DIR (or the "directory" option) at a writable directory',
          },
        ],
        details: { directory: root },
      };
    },

    async apply(target: Target, input: unknown, applyOptions: ApplyOptions = {}): Promise<ApplyResult> {
      assertTargetKind(driver, target);
      const policy = normalizePolicy(input);
      const content = render(policy);
      const file = join(folderOf(target), `${policy.id}.json`);
      const previous = await readFile(file, 'utf8').catch(() => undefined);
      const changed = previous !== content;
      const dryRun = applyOptions.dryRun === true;
      if (changed && !dryRun) {
        await mkdir(folderOf(target), { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`;
        await writeFile(temporary, content);
        await rename(temporary, file);
      }
      return { id: policy.id, artifact: { format: 'json', content }, changed, dryRun };
    },

    async list(target: Target): Promise<AppliedPolicy[]> {
      assertTargetKind(driver, target);
      const names = await readdir(folderOf(target)).catch(() => [] as string[]);
      const ids = names
        .filter((n) => n.endsWith('.json'))
        .map((n) => n.slice(0, -'.json'.length))
        .sort();
      return Promise.all(
        ids.map(async (id) => ({
          id,
          policy: normalizePolicy(JSON.parse(await readFile(join(folderOf(target), `${id}.json`), 'utf8'))),
        })),
      );
    },

    async remove(target: Target, id?: string): Promise<number> {
      const present = (await driver.list(target))
        .map((p) => p.id)
        .filter((p) => id === undefined || p === id);
      for (const each of present) await rm(join(folderOf(target), `${each}.json`));
      if (id === undefined) await rm(folderOf(target), { recursive: true, force: true });
      return present.length;
    },
  };
  return driver;
}
