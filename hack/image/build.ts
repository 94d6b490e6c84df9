// `npx tsx hack/image/build.ts --rootfs <dir> [--out <tar>]`: assembles the secretsync
// image's root filesystem (hack/image/rootfs.ts) and prints its spec as JSON. With --out it
// also writes the image archive that `ctr images import` takes (test/testenv/image-archive.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeImageArchive } from '../../test/testenv/image-archive.js';
import { assembleRootfs } from './rootfs.js';

const { values } = parseArgs({ options: { rootfs: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help || (!values.rootfs && !values.out)) {
  process.stderr.write('usage: npx tsx hack/image/build.ts [--rootfs <dir>] [--out <image.tar>]\n');
  process.exit(values.help ? 0 : 2);
}

const t0 = Date.now();
const seconds = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const log = (m: string) => process.stderr.write(`[image] ${m}\n`);
const rootfs = values.rootfs ? resolve(values.rootfs) : mkdtempSync(join(tmpdir(), 'secretsync-rootfs-'));
try {
  const spec = await assembleRootfs(rootfs, { log });
  log(`${spec.name}: root filesystem in ${rootfs} (${seconds()})`);
  if (values.out) {
    const { id } = await writeImageArchive(spec, resolve(values.out));
    log(`${spec.name}: ${values.out} (image ID ${id}, ${seconds()})`);
  }
  process.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
} finally {
  if (!values.rootfs) rmSync(rootfs, { recursive: true, force: true });
}
