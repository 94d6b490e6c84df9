// Deletion of a SecretSync: with deletionPolicy Delete the target Secret goes too; with
// Retain it is released (owner reference and our labels dropped, so the garbage
// collector leaves it). Only then is our finalizer removed.
import { FINALIZER, OWNER_LABEL, type SecretSync } from '../api/types.js';
import type { Logger } from '../observability/logger.js';
import type { SyncReader, SyncWriter } from './ports.js';
import { ownedBy, targetName } from './target.js';

export async function finalize(ss: SecretSync, reader: SyncReader, writer: SyncWriter, log: Logger): Promise<void> {
  if (!(ss.metadata.finalizers ?? []).includes(FINALIZER)) return;
  const namespace = ss.metadata.namespace ?? '';
  const name = targetName(ss);
  const secret = await reader.getSecret(namespace, name);
  if (secret && ownedBy(secret, ss) && secret.metadata.labels?.[OWNER_LABEL] === ss.metadata.name) {
    if ((ss.spec.target?.deletionPolicy ?? 'Delete') === 'Delete') {
      await writer.deleteSecret(namespace, name, secret.metadata.uid ?? '');
      log.info({ secretsync: `${namespace}/${ss.metadata.name}`, secret: name }, 'deleted target Secret');
    } else {
      await writer.releaseSecret(secret, ss.metadata.uid ?? '');
      log.info({ secretsync: `${namespace}/${ss.metadata.name}`, secret: name }, 'retained target Secret');
    }
  }
  await writer.setFinalizers(ss, (ss.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
}
