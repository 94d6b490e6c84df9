// The release version, read from the package.json that ships with the code: the
// repository's when run from source (`npx tsx src/cli.ts`), /app/package.json in the image
// (its code is /app/dist/src), the npm package's own when installed. Read at run time
// rather than compiled in, so nothing can build a dist whose version differs from its
// package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The version of the nearest package.json named "secretsync" above `from` (a directory). */
export function readVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'secretsync' && typeof pkg.version === 'string') return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
