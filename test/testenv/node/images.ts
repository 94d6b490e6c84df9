// The node's own images, from the machine's static busybox: the sandbox (pause) image and
// a small test application image. Written and imported by image-archive.ts.
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSpec } from '../image-archive.js';
import { busybox, PAUSE_IMAGE, TEST_APP_IMAGE } from './host.js';

function busyboxRootfs(dir: string, applets: string[]): void {
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\n');
}

/** The sandbox image and the test application image, from the machine's static busybox. */
export function nodeImages(dir: string): ImageSpec[] {
  const pause = join(dir, 'pause');
  busyboxRootfs(pause, ['sh']);
  const app = join(dir, 'test-app');
  busyboxRootfs(app, [
    'sh', 'cat', 'stat', 'ls', 'sleep', 'echo', 'env', 'id', 'wc', 'head', 'tail', 'grep', 'nc', 'httpd', 'ps', 'df',
    'mount', 'test', 'true', 'false', 'printf', 'cut', 'sed', 'awk', 'timeout', 'hostname', 'mkdir', 'touch', 'date', 'tr', 'sort', 'find', 'sha256sum',
  ]);
  return [
    {
      name: PAUSE_IMAGE,
      rootfs: pause,
      // Waits for TERM like the real pause; PID 1 ignores signals it has no handler for.
      config: { Entrypoint: ['/bin/busybox', 'sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"], Env: ['PATH=/bin'] },
    },
    { name: TEST_APP_IMAGE, rootfs: app, config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'], WorkingDir: '/' } },
  ];
}
