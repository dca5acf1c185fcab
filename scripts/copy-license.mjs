// `prepack` of every published package: each tarball carries the repository's LICENSE
// (Apache-2.0, as every package.json says), copied from the root so there is one source.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

copyFileSync(join(import.meta.dirname, '..', 'LICENSE'), join(process.cwd(), 'LICENSE'));
