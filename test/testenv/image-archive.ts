// Container images without a registry or a Docker engine: a root filesystem directory is
// written as a docker-archive tar (manifest.json, an image config, one layer) and imported
// into the node's containerd (namespace k8s.io, where the kubelet looks), so pods that name
// the image with IfNotPresent never ask a registry.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ImageSpec {
  /** e.g. ghcr.io/secretsync/secretsync:0.1.0 (a tag, never :latest: the kubelet would pull). */
  name: string;
  /** A directory: the image's root filesystem, modes, owners and symlinks as they are there. */
  rootfs: string;
  config: {
    Entrypoint?: string[];
    Cmd?: string[];
    User?: string;
    WorkingDir?: string;
    Env?: string[];
    ExposedPorts?: Record<string, object>;
  };
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Writes `spec` as a docker-archive tar at `outTar` (what `docker save` writes and
 * `ctr images import` reads). The layer is the system tar of rootfs with numeric owners,
 * entries in name order and a fixed mtime, so the same rootfs gives the same image ID.
 */
export async function writeImageArchive(spec: ImageSpec, outTar: string): Promise<{ id: string }> {
  const work = mkdtempSync(join(tmpdir(), 'secretsync-image-'));
  try {
    const layerTmp = join(work, 'layer.tar');
    const entries = readdirSync(spec.rootfs).sort();
    if (entries.length === 0) throw new Error(`${spec.rootfs} is empty`);
    await run('tar', [
      '--create', `--file=${layerTmp}`, `--directory=${spec.rootfs}`,
      '--numeric-owner', '--sort=name', '--mtime=@0', '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '--', ...entries,
    ]);
    const diffId = await sha256File(layerTmp);
    const layerPath = `${diffId}/layer.tar`;
    const config = {
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'secretsync test/testenv/image-archive.ts' }],
    };
    const configJson = JSON.stringify(config);
    const configName = `${createHash('sha256').update(configJson).digest('hex')}.json`;
    const archive = join(work, 'archive');
    mkdirSync(join(archive, diffId), { recursive: true });
    renameSync(layerTmp, join(archive, layerPath));
    writeFileSync(join(archive, configName), configJson);
    writeFileSync(join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [spec.name], Layers: [layerPath] }]));
    mkdirSync(dirname(outTar), { recursive: true });
    await run('tar', [
      '--create', `--file=${outTar}`, `--directory=${archive}`,
      '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '--', 'manifest.json', configName, diffId,
    ]);
    // The image ID containerd and the kubelet show: the digest of the config.
    return { id: `sha256:${configName.slice(0, -'.json'.length)}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where the node's containerd listens: `.testenv/env.sh` exports it (absent without a node). */
export interface ContainerdEnv {
  SECRETSYNC_CONTAINERD_ADDRESS?: string;
}

/**
 * Imports a docker-archive (or OCI) tar into the node's containerd, namespace k8s.io,
 * unpacked for its snapshotter. Throws when the stack has no node.
 */
export async function importImage(tar: string, env: ContainerdEnv | NodeJS.ProcessEnv = process.env): Promise<void> {
  const address = env.SECRETSYNC_CONTAINERD_ADDRESS;
  if (!address) throw new Error('SECRETSYNC_CONTAINERD_ADDRESS is unset: this stack has no node (see make testenv-up)');
  await run('ctr', ['--address', address, '--namespace', 'k8s.io', 'images', 'import', tar], {
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}
