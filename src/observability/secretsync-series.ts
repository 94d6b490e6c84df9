// The per-SecretSync series (what users alert on, as ESO's externalsecret_status_condition
// lets them): each SecretSync's conditions, the reason of each condition that is not True,
// and the time of its last successful sync. They hold what the leader's reconciles recorded
// here (SecretSyncSeries.set), and are written out at scrape time from that map alone, so a
// SecretSync deleted (delete) or a replica that stopped leading (stopLeading) leaves no
// series behind: nothing is ever set on a gauge except inside its collect(). Labels carry
// names, condition types, statuses and reasons (a fixed set the operator writes), never a value.
import { Gauge, type Registry } from 'prom-client';

/** What the series of one SecretSync show; made by secretsync/series.ts from the status a reconcile left. */
export interface SyncSeries {
  /** The SecretSync's uid (a new object of the same name starts afresh); not exported. */
  uid?: string;
  /** The conditions exported (Ready, Rotated, RolloutComplete), as status holds them. */
  conditions: { type: string; status: string; reason: string }[];
  /** Unix seconds of the last successful sync; absent until one is known. */
  lastSyncSeconds?: number;
}

/** The status label values of secretsync_status_condition: one series each per condition, as ESO's. */
const STATUSES = ['True', 'False'] as const;

export class SecretSyncSeries {
  private readonly byKey = new Map<string, { namespace: string; name: string; series: SyncSeries }>();
  private leading = true;

  constructor(registers: Registry[]) {
    const all = () => [...this.byKey.values()];
    new Gauge({
      name: 'secretsync_status_condition',
      help:
        'The status of a condition of a SecretSync (Ready; Rotated with spec.rotation; RolloutComplete when workloads depend on it): ' +
        '1 on the series whose status label is the condition\'s status, 0 on the other (both 0 while it is Unknown). Only the leader exports it.',
      labelNames: ['namespace', 'name', 'condition', 'status'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, name, series } of all()) {
          for (const c of series.conditions) for (const status of STATUSES) this.set({ namespace, name, condition: c.type, status }, c.status === status ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'secretsync_condition_reason',
      help: 'Always 1: the reason of a SecretSync condition that is not True (absent while it is True). Only the leader exports it.',
      labelNames: ['namespace', 'name', 'condition', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, name, series } of all()) {
          for (const c of series.conditions) if (c.status !== 'True') this.set({ namespace, name, condition: c.type, reason: c.reason }, 1);
        }
      },
    });
    new Gauge({
      name: 'secretsync_last_sync_timestamp_seconds',
      help:
        'Unix time of the last successful sync of a SecretSync: the last read of its source that left its Secret current. ' +
        'A leader that takes over starts from the moment it first finds the SecretSync Ready. Only the leader exports it.',
      labelNames: ['namespace', 'name'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, name, series } of all()) if (series.lastSyncSeconds !== undefined) this.set({ namespace, name }, series.lastSyncSeconds);
      },
    });
  }

  /** The series of SecretSync `namespace/name` now; ignored once this replica stopped leading. */
  set(key: string, series: SyncSeries): void {
    if (!this.leading) return;
    const [namespace = '', name = ''] = key.split('/');
    this.byKey.set(key, { namespace, name, series });
  }

  get(key: string): SyncSeries | undefined {
    return this.byKey.get(key)?.series;
  }

  /** The SecretSync is gone: its series go with it. */
  delete(key: string): void {
    this.byKey.delete(key);
  }

  /** This replica no longer leads: it exports no per-SecretSync series, now or later (a reconcile still finishing included). */
  stopLeading(): void {
    this.leading = false;
    this.byKey.clear();
  }

  /** How many SecretSyncs have series. */
  get size(): number {
    return this.byKey.size;
  }
}
