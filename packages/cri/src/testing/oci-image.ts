import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * Packs files into a single-layer OCI image archive (an OCI layout: `oci-layout`, `index.json`
 * with the `io.containerd.image.name` annotation, `blobs/sha256/…`) that `ctr images import`
 * loads — no registry needed.
 *
 * @param files  path inside the image → file on the host to copy there (mode kept), or `{ link }`.
 */
export function buildOciImage(
  name: string,
  files: Record<string, string | { link: string }>,
  entrypoint: string[],
  out: string,
): void {
  const work = mkdtempSync(join(tmpdir(), 'swy-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const [inside, source] of Object.entries(files)) {
      const target = join(rootfs, inside);
      mkdirSync(join(target, '..'), { recursive: true });
      if (typeof source === 'string') copyFileSync(source, target);
      else symlinkSync(source.link, target);
    }
    const layerPath = join(work, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerPath, '.']);
    const layer = readFileSync(layerPath);
    const layerDigest = sha256(layer);
    const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    const config = JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Entrypoint: entrypoint, Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha256(config)}`,
        size: Buffer.byteLength(config),
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: `sha256:${layerDigest}`,
          size: layer.length,
        },
      ],
    });
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, layerDigest), layer);
    writeFileSync(join(blobs, sha256(config)), config);
    writeFileSync(join(blobs, sha256(manifest)), manifest);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${sha256(manifest)}`,
            size: Buffer.byteLength(manifest),
            annotations: {
              'io.containerd.image.name': name,
              'org.opencontainers.image.ref.name': name.split(':').at(-1),
            },
          },
        ],
      }),
    );
    execFileSync('tar', ['-C', layout, '-cf', out, '.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
