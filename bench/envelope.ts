// Benchmark (make bench; not part of make test): envelope mode against plain mode. For each
// mode (plain, Vault Transit KEK, AWS KMS KEK) a fresh operator process with default flags
// syncs N new SecretSyncs from one OpenBao KV secret; the bench prints the time until all
// are Ready, the key-service calls that took (from secretsync_provider_calls_total: one
// data key per SecretSync is the floor), and the calls and Secret writes of one quiet
// refresh interval afterwards (the floor is zero). Against the local stack (reused when
// `make testenv-up` runs it, else started and stopped here). Exits 1 when a mode needs
// more than one data key per SecretSync or a quiet interval calls a key service.
//
//   npx tsx bench/envelope.ts [--syncs 500] [--modes plain,transit,kms] [--interval-seconds 30]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { SecretSync } from '../src/api/types.js';
import { keysData, keysRef } from '../test/helpers/aws.js';
import { eventually } from '../test/helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, installCrds, kube, readyCondition } from '../test/helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../test/helpers/operator.js';
import { awsConfig, requireEnv } from '../test/helpers/stack.js';
import { kvPut, vaultRoot } from '../test/helpers/vault.js';
import { stateDir } from '../test/testenv/config.js';
import { down, exportEnv, isRunning, readState, up } from '../test/testenv/index.js';
import { delta, parseSamples, sumBy } from './prom.js';
import { pool, runBench } from './run.js';

const G = { group: 'secretsync.io', version: 'v1alpha1' };
const say = (msg: string) => process.stdout.write(`${msg}\n`);
type Mode = 'plain' | 'transit' | 'kms';

interface Result {
  mode: Mode;
  readyS: number;
  keyCalls: Record<string, number>;
  quietKeyCalls: number;
  quietSecretWrites: number;
  quietReads: number;
}

const isKeyCall = (op: string) => op.startsWith('transit-') || op.startsWith('kms-');
const total = (r: Record<string, number>, pred: (k: string) => boolean = () => true) =>
  Object.entries(r).filter(([k]) => pred(k)).reduce((n, [, v]) => n + v, 0);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { syncs: { type: 'string', default: '500' }, modes: { type: 'string', default: 'plain,transit,kms' }, 'interval-seconds': { type: 'string', default: '30' } },
  });
  const n = Number(values.syncs);
  const intervalS = Number(values['interval-seconds']);
  const modes = (values.modes ?? '').split(',') as Mode[];
  const dir = stateDir();
  const running = readState(dir);
  const owned = !isRunning(running);
  exportEnv(owned ? await up(dir) : running);
  const { kc, core, custom } = kube();
  const id = `benv-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const transit = `transit-${id}`;
  const aws = awsConfig();
  const root = vaultRoot();
  const namespaces: string[] = [];
  const results: Result[] = [];
  let op: RunningOperator | undefined;
  try {
    await installCrds(kc);
    const opNs = `${id}-system`;
    await createNamespace(core, opNs);
    namespaces.push(opNs);
    await kvPut(`${id}/db`, { password: randomBytes(12).toString('hex') });
    await root.write(`sys/mounts/${transit}`, { type: 'transit' });
    await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
    const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
    const key = await kms.send(new CreateKeyCommand({ Description: id }));
    await kms.send(new CreateAliasCommand({ AliasName: `alias/${id}`, TargetKeyId: key.KeyMetadata?.KeyId }));
    kms.destroy();

    for (const mode of modes) {
      const ns = `${id}-${mode}`;
      await createNamespace(core, ns);
      namespaces.push(ns);
      await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
      await createSecret(core, ns, 'aws-keys', keysData(aws.credentials));
      await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
      await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region: aws.region, endpoint: aws.endpoint, auth: keysRef('aws-keys') } } });
      const encryption =
        mode === 'transit'
          ? { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } }
          : mode === 'kms'
            ? { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: `alias/${id}` } } }
            : undefined;
      op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--log-level=info']);
      const o = op;
      const metrics = async () => parseSamples((await getText(`http://127.0.0.1:${o.metricsPort}/metrics`)).body);
      await eventually(async () => (o.logs.some((l) => l.includes('"caches synced"')) ? true : undefined), { what: 'operator started' });

      say(`${mode}: creating ${n} SecretSyncs (refresh every ${intervalS}s)`);
      const names = Array.from({ length: n }, (_, i) => `sync-${String(i).padStart(4, '0')}`);
      const t0 = Date.now();
      await pool(names, 50, (name) =>
        apply(custom, {
          kind: 'SecretSync',
          metadata: { name, namespace: ns },
          spec: {
            sourceRef: { name: 'vault' },
            data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }],
            refresh: { interval: `${intervalS}s` },
            ...(encryption ? { target: { encryption } } : {}),
          },
        }),
      );
      await eventually(
        async () => {
          const list = (await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] };
          return list.items.filter((s) => readyCondition(s)?.status === 'True').length === n ? true : undefined;
        },
        { timeoutMs: 1_800_000, intervalMs: 500, what: `${n} SecretSyncs Ready` },
      );
      const readyS = (Date.now() - t0) / 1000;
      const calls = async () => sumBy(await metrics(), 'secretsync_provider_calls_total', {}, 'operation');
      const writes = async () => sumBy(await metrics(), 'secretsync_kube_writes_total', { resource: 'secrets' }, 'verb');
      const keyCalls = Object.fromEntries(Object.entries(await calls()).filter(([k]) => isKeyCall(k)));

      const c0 = await calls();
      const w0 = await writes();
      await new Promise((r) => setTimeout(r, (intervalS + 2) * 1000));
      const dc = delta(await calls(), c0);
      results.push({
        mode,
        readyS,
        keyCalls,
        quietKeyCalls: total(dc, isKeyCall),
        quietReads: dc.read ?? 0,
        quietSecretWrites: total(delta(await writes(), w0)),
      });
      await op.stop();
      op = undefined;
    }

    say('');
    say(`${n} new SecretSyncs per mode, one OpenBao KV source, operator defaults (--qps 50 --burst 100 --workers 20)`);
    say(`mode     time to all Ready   key-service calls (initial)                          one quiet interval (${intervalS}s)`);
    let ok = true;
    for (const r of results) {
      const mints = (r.keyCalls['transit-datakey'] ?? 0) + (r.keyCalls['kms-generate-data-key'] ?? 0);
      const detail = total(r.keyCalls) === 0 ? '0' : Object.entries(r.keyCalls).map(([k, v]) => `${k} ${v}`).join(', ');
      say(
        `${r.mode.padEnd(8)} ${`${r.readyS.toFixed(1)} s`.padEnd(19)} ${`${detail}${r.mode === 'plain' ? '' : ` (${(mints / n).toFixed(2)} data keys per sync)`}`.padEnd(52)} ` +
          `${r.quietReads} KV reads, ${r.quietKeyCalls} key-service calls, ${r.quietSecretWrites} Secret writes`,
      );
      if (r.mode !== 'plain' && mints > n) ok = false;
      if (r.quietKeyCalls > 0 || r.quietSecretWrites > 0) ok = false;
    }
    say(`at most one data key per SecretSync and quiet intervals without key-service calls or writes -> ${ok ? 'PASS' : 'FAIL'}`);
    return ok ? 0 : 1;
  } finally {
    say('cleaning up');
    await op?.stop();
    for (const ns of namespaces) await deleteNamespace(core, ns);
    if (owned) await down(dir);
  }
}

runBench(main);
