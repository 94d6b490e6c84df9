// What the distroless base image carries, from Debian packages: glibc, libstdc++ and
// libgcc (only the libraries node loads), CA certificates, time zones and netbase's
// /etc/services and /etc/protocols. `apt-get download` fetches the machine's candidate
// versions once into the cache; `dpkg-deb -x` unpacks each beside its .deb, and later
// assemblies reuse the unpacked trees without asking the mirror.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { settle } from './stage.js';

const run = promisify(execFile);

/** The packages distroless's nodejs image is made of that node needs at run time. */
export const debianPackages = ['libc6', 'libstdc++6', 'libgcc-s1', 'ca-certificates', 'tzdata', 'netbase'] as const;
type Package = (typeof debianPackages)[number];

/** `<name>_<version>_<arch>` of each package, the candidate apt would install (apt-get download's file name without .deb). */
async function candidates(pkgs: readonly string[]): Promise<string[]> {
  const { stdout } = await run('apt-cache', ['show', '--no-all-versions', ...pkgs]).catch((err: Error) => {
    throw new Error(`apt-cache show failed (the image's base libraries come from Debian packages; this needs apt): ${err.message}`);
  });
  const found = new Map<string, string>();
  for (const para of stdout.split(/\n\n+/)) {
    const field = (f: string) => new RegExp(`^${f}: (.+)$`, 'm').exec(para)?.[1];
    const [name, version, arch] = [field('Package'), field('Version'), field('Architecture')];
    if (name && version && arch) found.set(name, `${name}_${version.replace(/:/g, '%3a')}_${arch}`);
  }
  return pkgs.map((p) => {
    const key = found.get(p);
    if (!key) throw new Error(`apt-cache show ${p}: no candidate version`);
    return key;
  });
}

/** Unpacks the packages into `<cache>/<name>_<version>_<arch>/` (downloading the missing ones); returns those dirs. */
export async function unpackedDebs(cache: string, log: (m: string) => void): Promise<Record<Package, string>> {
  mkdirSync(cache, { recursive: true });
  // A machine that never ran apt-get update has no package lists: as root, update once.
  let keys = await candidates(debianPackages).catch(async (err: Error) => {
    if (process.getuid?.() !== 0) throw err;
    log(`${err.message.split('\n')[0]}: apt-get update, then again`);
    await run('apt-get', ['update', '-q']);
    return candidates(debianPackages);
  });
  const missing = keys.filter((k) => !existsSync(join(cache, k)));
  if (missing.length > 0) {
    const tmp = join(cache, `.download-${process.pid}`); // one per process: concurrent runs do not mix
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      const names = missing.map((k) => k.slice(0, k.indexOf('_')));
      log(`apt-get download ${names.join(' ')}`);
      // As root apt drops to the _apt user for downloads, which may not write here.
      const download = () => run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...names], { cwd: tmp });
      await download().catch(async (err: Error) => {
        // Package lists older than the mirror name files it no longer has.
        if (process.getuid?.() !== 0) throw new Error(`apt-get download failed (as root it would run apt-get update first): ${err.message}`);
        log('apt-get download failed: apt-get update, then again');
        await run('apt-get', ['update', '-q']);
        keys = await candidates(debianPackages); // the fresh lists may name newer versions
        await download();
      });
      for (const deb of readdirSync(tmp).filter((f) => f.endsWith('.deb'))) {
        const dir = join(tmp, deb.slice(0, -'.deb'.length));
        await run('dpkg-deb', ['-x', join(tmp, deb), dir]);
        renameSync(join(tmp, deb), join(cache, deb));
        settle(dir, join(cache, basename(dir)));
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const out = Object.fromEntries(debianPackages.map((p, i) => [p, join(cache, keys[i] ?? '')])) as Record<Package, string>;
  for (const [p, dir] of Object.entries(out)) if (!existsSync(dir)) throw new Error(`${p}: apt-get download did not bring ${basename(dir)}.deb (apt-get update?)`);
  return out;
}

/** Copies `rel` (a file or a symlink, then also what it points to, within `from`) from tree `from` to tree `to`. */
function copyEntry(from: string, to: string, rel: string): void {
  const src = join(from, rel);
  const dest = join(to, rel);
  mkdirSync(dirname(dest), { recursive: true });
  if (lstatSync(src).isSymbolicLink()) {
    const target = readlinkSync(src);
    rmSync(dest, { force: true });
    cpSync(src, dest, { verbatimSymlinks: true });
    const next = target.startsWith('/') ? target.slice(1) : join(dirname(rel), target);
    if (existsSync(join(from, next))) copyEntry(from, to, next);
  } else {
    cpSync(src, dest, { preserveTimestamps: true });
  }
}

/** The libraries `binary` loads (its whole closure), resolved in the unpacked packages with their own loader. */
async function libraryClosure(binary: string, trees: string[]): Promise<string[]> {
  const loader = join(trees[0] ?? '', 'lib', 'x86_64-linux-gnu', 'ld-linux-x86-64.so.2');
  const libDirs = trees.flatMap((t) => ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu'].map((d) => join(t, d)));
  if (!existsSync(loader)) throw new Error(`${loader}: no loader (only x86_64 is known here)`);
  const { stdout } = await run(loader, ['--library-path', libDirs.join(':'), '--list', binary]);
  const paths = [...stdout.matchAll(/=> (\S+) \(/g)].map((m) => m[1] ?? '');
  const outside = paths.filter((p) => !trees.some((t) => p.startsWith(`${t}/`)));
  if (outside.length > 0) throw new Error(`${binary} needs libraries the packages do not carry: ${outside.join(', ')}`);
  return ['lib64/ld-linux-x86-64.so.2', ...paths.map((p) => relative(trees.find((t) => p.startsWith(`${t}/`)) ?? '', p))];
}

/**
 * Lays the packages' files node needs into `rootfs`: the libraries `node` loads (with the
 * loader), /etc/ssl/certs/ca-certificates.crt (what update-ca-certificates would make:
 * every Mozilla certificate, in name order), /usr/share/zoneinfo, netbase's files in /etc,
 * and each package's copyright.
 */
export async function layDebianFiles(rootfs: string, node: string, debs: Record<Package, string>): Promise<void> {
  const libTrees = [debs.libc6, debs['libstdc++6'], debs['libgcc-s1']];
  for (const rel of await libraryClosure(node, libTrees)) {
    const tree = libTrees.find((t) => lstatSync(join(t, rel), { throwIfNoEntry: false }));
    if (!tree) throw new Error(`${rel}: in none of the unpacked packages`);
    copyEntry(tree, rootfs, rel);
  }

  const mozilla = join(debs['ca-certificates'], 'usr', 'share', 'ca-certificates', 'mozilla');
  const certs = readdirSync(mozilla).filter((f) => f.endsWith('.crt')).sort();
  if (certs.length < 100) throw new Error(`${mozilla}: only ${certs.length} certificates`);
  mkdirSync(join(rootfs, 'etc', 'ssl', 'certs'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'ssl', 'certs', 'ca-certificates.crt'), certs.map((c) => readFileSync(join(mozilla, c), 'utf8').replace(/\n?$/, '\n')).join(''));

  cpSync(join(debs.tzdata, 'usr', 'share', 'zoneinfo'), join(rootfs, 'usr', 'share', 'zoneinfo'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  for (const f of ['services', 'protocols', 'rpc', 'ethertypes']) copyEntry(debs.netbase, rootfs, join('etc', f));

  for (const [pkg, tree] of Object.entries(debs)) {
    const copyright = join('usr', 'share', 'doc', pkg, 'copyright');
    if (existsSync(join(tree, copyright))) copyEntry(tree, rootfs, copyright);
  }
}
