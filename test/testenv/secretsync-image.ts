// The secretsync image on the stack's node: assembled from this checkout (hack/image), written
// as an archive and imported into the node's containerd under the chart's default name, so
// `helm install secretsync charts/secretsync` needs no image values. Called by `up` and by
// every integration run (the sources may have changed since `up`); an unchanged image (the
// same image ID, already in containerd) is not imported again.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assembleRootfs } from '../../hack/image/rootfs.js';
import { importImage, writeImageArchive, type ContainerdEnv } from './image-archive.js';

const run = promisify(execFile);

export interface EnsuredImage {
  name: string;
  id: string;
  imported: boolean;
  seconds: number;
}

/** Whether containerd has `name`, imported from the archive whose image ID the stamp records. */
async function imported(name: string, id: string, stamp: string, address: string): Promise<boolean> {
  try {
    const s = JSON.parse(readFileSync(stamp, 'utf8')) as { name?: string; id?: string };
    if (s.name !== name || s.id !== id) return false;
    const { stdout } = await run('ctr', ['--address', address, '--namespace', 'k8s.io', 'images', 'ls', '-q', `name==${name}`], { timeout: 30_000 });
    return stdout.trim() === name;
  } catch {
    return false;
  }
}

/**
 * Builds the image into `<dir>/secretsync` (rootfs) and `<dir>/secretsync.tar`, and imports
 * it unless containerd already has this image ID. Undefined when the stack has no node.
 */
export async function ensureSecretsyncImage(dir: string, env: ContainerdEnv, log: (m: string) => void): Promise<EnsuredImage | undefined> {
  const address = env.SECRETSYNC_CONTAINERD_ADDRESS;
  if (!address) return undefined;
  const t0 = Date.now();
  mkdirSync(dir, { recursive: true });
  const stamp = join(dir, 'secretsync.imported.json');
  const spec = await assembleRootfs(join(dir, 'secretsync'), { log: (m) => log(`image: ${m}`) });
  const tar = join(dir, 'secretsync.tar');
  const { id } = await writeImageArchive(spec, tar);
  const seconds = () => (Date.now() - t0) / 1000;
  if (await imported(spec.name, id, stamp, address)) return { name: spec.name, id, imported: false, seconds: seconds() };
  await importImage(tar, env);
  writeFileSync(stamp, JSON.stringify({ name: spec.name, id }));
  return { name: spec.name, id, imported: true, seconds: seconds() };
}
