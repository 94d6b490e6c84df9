// --webhook-cert-dir: serving certificates provided from outside (cert-manager, a mounted
// Secret): tls.crt, tls.key and ca.crt in one directory, re-read every round so a renewal
// there is served (and its CA registered) without a restart.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { CertBundle } from './certs.js';

export async function readCertDir(dir: string): Promise<CertBundle> {
  const read = async (f: string) => {
    try {
      return await readFile(join(dir, f), 'utf8');
    } catch (err) {
      throw new Error(`--webhook-cert-dir ${dir}: cannot read ${f} (${(err as NodeJS.ErrnoException).code ?? 'error'}): it needs tls.crt, tls.key and ca.crt`);
    }
  };
  const [cert, key, ca] = await Promise.all([read('tls.crt'), read('tls.key'), read('ca.crt')]);
  // Fail early on files that are not certificates (the key is checked by the TLS server).
  try {
    new X509Certificate(cert);
    new X509Certificate(ca);
  } catch {
    throw new Error(`--webhook-cert-dir ${dir}: tls.crt or ca.crt is not a PEM certificate`);
  }
  return { ca: { cert: ca, key: '' }, serving: { cert, key }, caBundle: ca };
}
