// An ESO ExternalSecret spec to our SecretSync spec: the store reference, refresh, data and
// dataFrom entries (paths below the Vault mount when the store is in the same input), the
// target and its template (translated to Mustache by template.ts).
import { parseDuration } from '../api/duration.js';
import { referencedKeys } from '../api/template.js';
import type { DataEntry, DataFromEntry, RefreshSpec, SecretSyncSpec, TargetSpec } from '../api/types.js';
import { isObj, Unconvertible } from './fields.js';
import type { Fields, StoreInfo } from './fields.js';
import { TemplateUnsupported, translateTemplate } from './template.js';

/** ESO's remoteRef.key for a Vault KV store may start with the mount (and "data/" for v2); ours is below the mount. */
function ourPath(written: string, info: StoreInfo | undefined): string {
  const key = written.replace(/^\/+/, ''); // ours is relative: no leading slash
  const mount = info?.vaultMount;
  if (!mount) return key;
  for (const prefix of [`${mount}/data/`, `${mount}/`]) if (key.startsWith(prefix)) return key.slice(prefix.length);
  return key;
}

function decoding(f: Fields, out: { decodingStrategy?: string }): void {
  const d = f.str('decodingStrategy');
  if (d && d !== 'None') out.decodingStrategy = d;
  const conv = f.str('conversionStrategy');
  if (conv && conv !== 'Default') f.cannot('conversionStrategy', `${conv}: ours keeps keys as the source names them`);
  const meta = f.str('metadataPolicy');
  if (meta && meta !== 'None') f.cannot('metadataPolicy', `${meta}: ours reads secret values, never their metadata`);
}

export function convertExternalSecret(spec: Fields, info: StoreInfo | undefined): SecretSyncSpec {
  const ref = spec.sub('secretStoreRef');
  const refName = ref?.str('name');
  const refKind = ref?.str('kind') ?? 'SecretStore';
  ref?.done();
  if (!refName) throw new Unconvertible('spec.secretStoreRef.name is missing (ours needs one source per SecretSync)');
  if (refKind !== 'SecretStore' && refKind !== 'ClusterSecretStore') throw new Unconvertible(`spec.secretStoreRef.kind ${refKind}: ours refers to SecretSources and ClusterSecretSources only`);
  const out: SecretSyncSpec = { sourceRef: { kind: refKind === 'SecretStore' ? 'SecretSource' : 'ClusterSecretSource', name: refName } };

  const refresh: RefreshSpec = {};
  const interval = spec.str('refreshInterval');
  const policy = spec.str('refreshPolicy');
  if (interval !== undefined && policy && policy !== 'Periodic') {
    // ESO ignores refreshInterval under OnChange and CreatedOnce; so does ours.
  } else if (interval !== undefined) {
    const ms = goDurationMs(interval);
    if (ms === undefined) spec.cannot('refreshInterval', `"${interval}" is not a Go duration`);
    else if (ms === 0) {
      // ESO's 0: sync once, and again when the ExternalSecret changes: our OnChange.
      if (!policy) refresh.policy = 'OnChange';
    } else if (ms < 10_000) {
      refresh.interval = '10s';
      spec.note('refreshInterval', `"${interval}" is below our minimum of 10s: written as 10s`);
    } else {
      const ours = parseDuration(interval);
      refresh.interval = ours !== undefined && Number.isInteger(ours) ? interval : `${Math.ceil(ms / 1000)}s`;
    }
  }
  if (policy) {
    if (['Periodic', 'OnChange', 'CreatedOnce'].includes(policy)) refresh.policy = policy as RefreshSpec['policy'];
    else spec.cannot('refreshPolicy', `"${policy}" is none of Periodic, OnChange, CreatedOnce`);
  }
  if (refresh.policy && refresh.policy !== 'Periodic') delete refresh.interval;
  if (Object.keys(refresh).length > 0) out.refresh = refresh;

  const data: DataEntry[] = [];
  for (const d of spec.list('data')) {
    if (!d.f) continue;
    const key = d.f.str('secretKey');
    const r = d.f.sub('remoteRef');
    if (d.f.cannot('sourceRef', 'ours reads one source per SecretSync: entry left out; put it in a SecretSync of its own')) {
      d.f.take('secretKey');
      d.f.take('remoteRef');
      continue;
    }
    if (!key || !r) {
      d.f.note('remoteRef', 'needs secretKey and remoteRef.key: entry left out');
      d.f.done();
      continue;
    }
    const path = r.str('key');
    if (!path) r.note('key', 'missing: entry left out');
    const entry: DataEntry = { key, remoteRef: { path: ourPath(path ?? '', info) } };
    const property = r.str('property');
    if (property) entry.remoteRef.property = property;
    const version = r.str('version');
    if (version) entry.remoteRef.version = version;
    decoding(r, entry);
    r.done();
    d.f.done();
    if (path) data.push(entry);
  }
  if (data.length > 0) out.data = data;

  const dataFrom: DataFromEntry[] = [];
  for (const d of spec.list('dataFrom')) {
    if (!d.f) continue;
    const entry: DataFromEntry = {};
    const extract = d.f.sub('extract');
    const find = d.f.sub('find');
    if (d.f.cannot('sourceRef', 'ours reads one source per SecretSync and has no generators: entry left out; put it in a SecretSync of its own')) {
      for (const k of ['extract', 'find', 'rewrite']) d.f.take(k);
      continue;
    }
    if (extract) {
      entry.remoteRef = { path: ourPath(extract.str('key') ?? '', info) };
      const version = extract.str('version');
      if (version) entry.remoteRef.version = version;
      extract.cannot('property', 'ours extracts the whole secret: list the keys below that property in spec.data instead');
      decoding(extract, entry);
      extract.done();
    } else if (find) {
      entry.find = {};
      const path = find.str('path');
      if (path) entry.find.path = path; // ESO's find.path is below the store's path already
      const name = find.sub('name');
      const re = name?.str('regexp');
      if (re) entry.find.name = { regexp: re };
      name?.done();
      const tags = find.take('tags');
      if (isObj(tags)) entry.find.tags = tags as Record<string, string>;
      decoding(find, entry);
      find.done();
    } else {
      d.f.note('extract', 'an entry with neither extract nor find: left out');
      d.f.done();
      continue;
    }
    const rewrites = d.f.list('rewrite');
    for (const rw of rewrites) {
      if (!rw.f) continue;
      const r = rw.f.sub('regexp');
      rw.f.cannot('transform', 'ours rewrites by regexp only');
      if (r) {
        const source = r.str('source');
        const target = r.str('target') ?? '';
        if (source !== undefined) (entry.rewrite ??= []).push({ regexp: { source, target } });
        r.done();
      }
      rw.f.done();
    }
    d.f.done();
    dataFrom.push(entry);
  }
  if (dataFrom.length > 0) out.dataFrom = dataFrom;
  if (!out.data && !out.dataFrom) throw new Unconvertible('no data or dataFrom entry ours can read (see the lines above)');

  const target: TargetSpec = {};
  const t = spec.sub('target');
  if (t) {
    const name = t.str('name');
    if (name) target.name = name;
    const creation = t.str('creationPolicy');
    if (creation && creation !== 'Owner') {
      t.cannot('creationPolicy', `${creation}: ours always creates and owns its Secret (ESO's Owner); it refuses a Secret someone else owns`);
    }
    const deletion = t.str('deletionPolicy');
    if (deletion) {
      t.cannot('deletionPolicy', `${deletion}: ESO's says what happens to the Secret when the provider's secrets are gone; ours (target.deletionPolicy) says what happens to it when the SecretSync is deleted (default Delete): set ours by hand if Delete is not what you want`);
    }
    const immutable = t.take('immutable');
    if (immutable === true) target.immutable = true;
    const tpl = t.sub('template');
    if (tpl) convertTemplate(tpl, target);
    t.done();
  }
  if (Object.keys(target).length > 0) out.target = target;
  // Without dataFrom the synced keys are known: a template naming one that was not carried
  // (an entry left out above) would be Ready=False TemplateError; say so here.
  if (target.template && !out.dataFrom && t) {
    const synced = new Set((out.data ?? []).map((d) => d.key));
    const missing = [...referencedKeys(target.template)].filter((k) => !synced.has(k));
    if (missing.length > 0) {
      t.note('template', `names ${missing.map((k) => `"${k}"`).join(', ')}, which no converted data entry syncs: the operator would refuse it (TemplateError) until you sync ${missing.length > 1 ? 'them' : 'it'}`);
    }
  }
  return out;
}

function convertTemplate(tpl: Fields, target: TargetSpec): void {
  const type = tpl.str('type');
  if (type) target.type = type;
  const merge = tpl.str('mergePolicy');
  if (merge && merge !== 'Replace') tpl.cannot('mergePolicy', `${merge}: ours writes exactly the template's keys; add "key: \\"{{key}}\\"" for each synced key to keep`);
  const engine = tpl.str('engineVersion');
  if (engine && engine !== 'v2') tpl.cannot('engineVersion', `${engine}: only v2 templates translate`);
  tpl.cannot('templateFrom', 'ours has no templates from ConfigMaps or Secrets: copy their keys into template.data');
  const meta = tpl.sub('metadata');
  if (meta) {
    const labels = meta.take('labels');
    if (isObj(labels) && Object.keys(labels).length > 0) target.labels = labels as Record<string, string>;
    const annotations = meta.take('annotations');
    if (isObj(annotations) && Object.keys(annotations).length > 0) target.annotations = annotations as Record<string, string>;
    meta.cannot('finalizers', 'ours sets no finalizers on the Secret');
    meta.done();
    for (const [k, v] of [...Object.entries(target.labels ?? {}), ...Object.entries(target.annotations ?? {})]) {
      if (String(v).includes('{{')) tpl.cannot('metadata', `${k}: ours writes labels and annotations literally, never rendered from values`);
    }
  }
  const data = tpl.sub('data');
  if (data) {
    const out: Record<string, string> = {};
    for (const [key, src] of Object.entries(data.obj)) {
      data.take(key);
      try {
        out[key] = translateTemplate(String(src));
      } catch (err) {
        if (!(err instanceof TemplateUnsupported)) throw err;
        data.cannot(key, `the template uses ${err.message}: key left out; write it in ours (docs/templates.md)`);
      }
    }
    data.done();
    if (Object.keys(out).length > 0) target.template = { data: out };
  }
  tpl.done();
}

/** A Go duration in milliseconds ("1h30m", "90s", "0"); undefined when it is not one. */
export function goDurationMs(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  return end === s.length && s.length > 0 ? total : undefined;
}
