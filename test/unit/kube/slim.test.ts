import { describe, expect, it } from '@jest/globals';
import { FIELD_MANAGER } from '../../../src/api/types.js';
import { slimSecret, withoutManagedFields } from '../../../src/kube/slim.js';
import { ownedMetadataKeys } from '../../../src/secretsync/target.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';

const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 's',
    namespace: 'ns',
    resourceVersion: '7',
    labels: { a: '1', theirs: 'x' },
    annotations: { 'secretsync.io/version': '3', note: 'y' },
    managedFields: [
      {
        manager: FIELD_MANAGER,
        operation: 'Update',
        fieldsType: 'FieldsV1',
        time: '2026-01-01T00:00:00Z',
        fieldsV1: { 'f:data': { 'f:password': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} }, 'f:annotations': { 'f:secretsync.io/version': {} }, 'f:ownerReferences': {} }, 'f:type': {} },
      },
      { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:theirs': {} }, 'f:annotations': { 'f:note': {} } } } },
    ],
  },
  type: 'Opaque',
  data: { password: 'cw==' },
};

describe('slim caches', () => {
  it('a Secret keeps everything but managedFields, of which only our label and annotation keys', () => {
    const slim = slimSecret(secret) as unknown as KubeSecret;
    expect(slim.data).toEqual(secret.data);
    expect(slim.metadata.labels).toEqual(secret.metadata.labels);
    expect(slim.metadata.managedFields).toEqual([
      { manager: FIELD_MANAGER, fieldsV1: { 'f:metadata': { 'f:labels': { 'f:a': {} }, 'f:annotations': { 'f:secretsync.io/version': {} } } } },
    ]);
    expect(ownedMetadataKeys(slim)).toEqual(ownedMetadataKeys(secret as unknown as KubeSecret));
    expect(ownedMetadataKeys(slim).labels).toEqual(new Set(['a']));
  });

  it('a Secret none of whose fields are ours keeps no managedFields', () => {
    const theirs = { ...secret, metadata: { ...secret.metadata, managedFields: [secret.metadata.managedFields[1]] } };
    expect('managedFields' in (slimSecret(theirs) as { metadata: object }).metadata).toBe(false);
  });

  it('a SecretSync drops managedFields only', () => {
    const ss = { metadata: { name: 'x', generation: 2, managedFields: [{ manager: 'kubectl' }] }, spec: { a: 1 }, status: { version: 3 } };
    expect(withoutManagedFields(ss)).toEqual({ metadata: { name: 'x', generation: 2 }, spec: { a: 1 }, status: { version: 3 } });
  });
});
