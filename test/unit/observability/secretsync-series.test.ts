// The per-SecretSync gauges as /metrics shows them: written at scrape time from what the
// leader's reconciles recorded, gone with the SecretSync, none once the replica stops leading.
import { createMetrics } from '../../../src/observability/metrics.js';

const lines = async (m: ReturnType<typeof createMetrics>) =>
  (await m.registry.metrics()).split('\n').filter((l) => /^secretsync_(status_condition|condition_reason|last_sync_timestamp_seconds)\{/.test(l));

test('conditions as ESO shapes them (True and False series), the reason of what is not True, the last sync', async () => {
  const m = createMetrics();
  m.secretsyncs.set('ns/db', { conditions: [{ type: 'Ready', status: 'False', reason: 'SourceNotFound' }, { type: 'Rotated', status: 'Unknown', reason: 'Scheduled' }], lastSyncSeconds: 1767225600 });
  m.secretsyncs.set('other/api', { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced' }] });
  expect((await lines(m)).sort()).toEqual(
    [
      'secretsync_status_condition{namespace="ns",name="db",condition="Ready",status="True"} 0',
      'secretsync_status_condition{namespace="ns",name="db",condition="Ready",status="False"} 1',
      'secretsync_status_condition{namespace="ns",name="db",condition="Rotated",status="True"} 0',
      'secretsync_status_condition{namespace="ns",name="db",condition="Rotated",status="False"} 0',
      'secretsync_condition_reason{namespace="ns",name="db",condition="Ready",reason="SourceNotFound"} 1',
      'secretsync_condition_reason{namespace="ns",name="db",condition="Rotated",reason="Scheduled"} 1',
      'secretsync_last_sync_timestamp_seconds{namespace="ns",name="db"} 1767225600',
      'secretsync_status_condition{namespace="other",name="api",condition="Ready",status="True"} 1',
      'secretsync_status_condition{namespace="other",name="api",condition="Ready",status="False"} 0',
    ].sort(),
  );

  // Ready again: the reason series goes, not just to 0.
  m.secretsyncs.set('ns/db', { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced' }], lastSyncSeconds: 1767225700 });
  expect((await lines(m)).filter((l) => l.includes('name="db"'))).toEqual([
    'secretsync_status_condition{namespace="ns",name="db",condition="Ready",status="True"} 1',
    'secretsync_status_condition{namespace="ns",name="db",condition="Ready",status="False"} 0',
    'secretsync_last_sync_timestamp_seconds{namespace="ns",name="db"} 1767225700',
  ]);

  m.secretsyncs.delete('ns/db');
  expect((await lines(m)).filter((l) => l.includes('name="db"'))).toEqual([]);
  expect(m.secretsyncs.size).toBe(1);

  m.secretsyncs.stopLeading();
  m.secretsyncs.set('ns/late', { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced' }] }); // a reconcile still finishing
  expect(await lines(m)).toEqual([]);
  expect(await m.registry.metrics()).toContain('# TYPE secretsync_status_condition gauge');
});

test('rotation and rollout counters: per namespace', async () => {
  const m = createMetrics();
  m.rotations.inc({ namespace: 'ns', result: 'succeeded' });
  m.rollouts.inc({ namespace: 'ns', kind: 'Deployment' });
  const text = await m.registry.metrics();
  expect(text).toContain('secretsync_rotations_total{namespace="ns",result="succeeded"} 1');
  expect(text).toContain('secretsync_rollouts_total{namespace="ns",kind="Deployment"} 1');
});
