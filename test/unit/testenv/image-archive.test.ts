// The docker-archive writer (test/testenv/image-archive.ts) without a containerd: what
// `ctr images import` reads (manifest.json, config, one layer whose digest is the config's
// diff_id), with the rootfs's modes, owners and symlinks kept, and the same bytes twice.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImageArchive, type ImageSpec } from '../../testenv/image-archive.js';

let dir: string;
const isRoot = process.getuid?.() === 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'image-archive-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rootfs(): string {
  const r = join(dir, 'rootfs');
  mkdirSync(join(r, 'app', 'bin'), { recursive: true });
  writeFileSync(join(r, 'app', 'bin', 'run'), '#!/bin/sh\necho hi\n');
  chmodSync(join(r, 'app', 'bin', 'run'), 0o750);
  writeFileSync(join(r, 'app', 'config'), 'x');
  chmodSync(join(r, 'app', 'config'), 0o640);
  if (isRoot) chownSync(join(r, 'app', 'config'), 65532, 65532);
  symlinkSync('bin/run', join(r, 'app', 'start'));
  return r;
}

const spec = (r: string): ImageSpec => ({
  name: 'example.local/app:1.2.3',
  rootfs: r,
  config: { Entrypoint: ['/app/start'], Cmd: ['serve'], User: '65532:65532', WorkingDir: '/app', Env: ['PATH=/bin'] },
});

function extract(tar: string): string {
  const out = join(dir, `x-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  execFileSync('tar', ['-xf', tar, '-C', out]);
  return out;
}

test('writes manifest.json, the config with the layer digest as diff_id, and one layer', async () => {
  const tar = join(dir, 'out', 'image.tar');
  await writeImageArchive(spec(rootfs()), tar);
  const x = extract(tar);
  const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  expect(manifest).toHaveLength(1);
  expect(manifest[0]!.RepoTags).toEqual(['example.local/app:1.2.3']);
  expect(manifest[0]!.Layers).toHaveLength(1);
  const config = JSON.parse(readFileSync(join(x, manifest[0]!.Config), 'utf8')) as {
    os: string;
    config: ImageSpec['config'];
    rootfs: { type: string; diff_ids: string[] };
  };
  expect(config.os).toBe('linux');
  expect(config.config).toEqual(spec('').config);
  const layer = readFileSync(join(x, manifest[0]!.Layers[0]!));
  expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(layer).digest('hex')}`] });
  // The config's file name is its own digest, as in `docker save`.
  expect(manifest[0]!.Config).toBe(`${createHash('sha256').update(readFileSync(join(x, manifest[0]!.Config))).digest('hex')}.json`);
});

test('the layer keeps modes, numeric owners and symlinks, with paths relative to the root', async () => {
  const tar = join(dir, 'image.tar');
  await writeImageArchive(spec(rootfs()), tar);
  const x = extract(tar);
  const layer = (JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Layers: string[] }[])[0]!.Layers[0]!;
  const listing = execFileSync('tar', ['-tvf', join(x, layer), '--numeric-owner'], { encoding: 'utf8' });
  expect(listing).toMatch(new RegExp(`^-rwxr-x--- ${isRoot ? '0/0' : '\\d+/\\d+'} .* app/bin/run$`, 'm'));
  expect(listing).toMatch(new RegExp(`^-rw-r----- ${isRoot ? '65532/65532' : '\\d+/\\d+'} .* app/config$`, 'm'));
  expect(listing).toMatch(/^lrwxrwxrwx .* app\/start -> bin\/run$/m);
  expect(listing).not.toMatch(/ \.\//);
});

test('the same rootfs gives the same archive (the image ID does not change between runs)', async () => {
  const r = rootfs();
  await writeImageArchive(spec(r), join(dir, 'a.tar'));
  await writeImageArchive(spec(r), join(dir, 'b.tar'));
  const sum = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
  expect(sum(join(dir, 'a.tar'))).toBe(sum(join(dir, 'b.tar')));
});
