/**
 * The base tree an operating-system flavour declares in `rootfs.yaml`, made with mmdebstrap (or
 * debootstrap when mmdebstrap is missing) and cached as a tarball keyed by everything that shapes it.
 * Concurrent builds are safe: each writes its own temporary file and renames it into place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { failed, invalid } from '../errors/index.js';
import { hasCommand, run } from '../exec/index.js';
import type { Logger } from '../log/index.js';
import { currentOwner } from '../namespace/owner.js';
import { deviceExcludes } from '../namespace/rootless.js';
import { debianRelease, releaseSuites } from '../distro/releases.js';
import { existsInTree, hostPath, writeInTree } from './paths.js';

export interface RootfsDecl {
  readonly family: 'apt';
  readonly variant: string;
  readonly components: readonly string[];
  readonly include: readonly string[];
}

export interface BaseSpec extends RootfsDecl {
  readonly release: string;
  readonly arch: string;
  readonly mirror: string;
  readonly security: string | undefined;
  /** The mirror's Release file has expired (a frozen copy): apt's Check-Valid-Until is off for this build. */
  readonly ignoreValidUntil?: boolean;
}

/** Reads and checks a flavour's rootfs.yaml. */
export function readRootfsDecl(file: string, flavour: string): RootfsDecl {
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalid(`[${flavour}] ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  const family = d.family ?? 'apt';
  if (family !== 'apt') throw invalid(`[${flavour}] ${file}: family "${String(family)}" is not supported yet (apt only)`);
  const list = (k: string, dflt: string[]): string[] => {
    const v = d[k] ?? dflt;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`[${flavour}] ${file}: ${k} must be a list of names`);
    return v as string[];
  };
  return { family, variant: String(d.variant ?? 'minbase'), components: list('components', ['main']), include: list('include', []) };
}

/** The cache key: a digest of everything that shapes the base tree. */
export function baseKey(spec: BaseSpec): string {
  const canonical = JSON.stringify({
    v: 1,
    family: spec.family,
    variant: spec.variant,
    release: spec.release,
    arch: spec.arch,
    mirror: spec.mirror,
    security: spec.security ?? null,
    components: [...spec.components].sort(),
    include: [...spec.include].sort(),
    ...(spec.ignoreValidUntil ? { ignoreValidUntil: true } : {}),
  });
  return crypto.createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

/** The base tree's apt sources: the archive (the release and its updates) and the security archive when known. */
export function aptSources(spec: BaseSpec): { uri: string; suites: string[]; components: readonly string[] }[] {
  const suites = releaseSuites(spec.release);
  const out = [{ uri: spec.mirror, suites: suites.main, components: spec.components }];
  if (spec.security && suites.security) out.push({ uri: spec.security, suites: [suites.security], components: spec.components });
  return out;
}

/** apt source lines for the base tree, one-line style (what mmdebstrap and bookworm's sources.list take). */
export function sourceLines(spec: BaseSpec): string[] {
  return aptSources(spec).flatMap((s) => s.suites.map((suite) => `deb ${s.uri} ${suite} ${s.components.join(' ')}`));
}

/** The same sources in deb822 style (trixie's /etc/apt/sources.list.d/debian.sources), signed by `keyring` when given. */
export function deb822Sources(spec: BaseSpec, keyring: string | undefined): string {
  return aptSources(spec)
    .map((s) => [`Types: deb`, `URIs: ${s.uri}`, `Suites: ${s.suites.join(' ')}`, `Components: ${s.components.join(' ')}`, ...(keyring ? [`Signed-By: ${keyring}`] : [])].join('\n'))
    .join('\n\n')
    .concat('\n');
}

/** apt's configuration file that turns Check-Valid-Until off while a tree of an expired release is built. */
export const VALID_UNTIL_CONF = '/etc/apt/apt.conf.d/00kiln-check-valid-until';

/**
 * Gives an unpacked base tree the apt configuration of its release: the sources as the release's own installer
 * writes them (deb822 debian.sources from trixie on, else sources.list), and, for an expired Release file,
 * Check-Valid-Until off until the build ends (removeBuildAptConf).
 */
export function configureTreeApt(root: string, spec: BaseSpec): void {
  if (debianRelease(spec.release)?.sources === 'deb822') {
    const keyring = ['/usr/share/keyrings/debian-archive-keyring.pgp', '/usr/share/keyrings/debian-archive-keyring.gpg'].find((k) => existsInTree(root, k));
    fs.rmSync(hostPath(root, '/etc/apt/sources.list', { keepLast: true }), { force: true });
    writeInTree(root, '/etc/apt/sources.list.d/debian.sources', deb822Sources(spec, keyring));
  } else {
    writeInTree(root, '/etc/apt/sources.list', `${sourceLines(spec).join('\n')}\n`);
  }
  if (spec.ignoreValidUntil) {
    writeInTree(root, VALID_UNTIL_CONF, '// kiln: the mirror\'s Release file has expired (a frozen copy); removed before the image is written\nAcquire::Check-Valid-Until "false";\n');
  }
}

/** Removes what configureTreeApt set for the build only (before the outputs are written). */
export function removeBuildAptConf(root: string): void {
  fs.rmSync(hostPath(root, VALID_UNTIL_CONF, { keepLast: true }), { force: true });
}

export function basePath(cacheDir: string, spec: BaseSpec): string {
  return path.join(cacheDir, 'kiln', 'base', `${spec.release}-${spec.arch}-${baseKey(spec)}.tar.zst`);
}

/** Returns the cached base tarball, creating it first when missing (unless offline). */
export async function ensureBase(spec: BaseSpec, cacheDir: string, offline: boolean, log: Logger): Promise<{ tarball: string; hit: boolean }> {
  const tarball = basePath(cacheDir, spec);
  if (fs.existsSync(tarball)) return { tarball, hit: true };
  if (offline) {
    throw invalid(`--offline: no cached base tree for ${spec.release}/${spec.arch} (expected ${tarball})`, 'build once online to fill the cache');
  }
  fs.mkdirSync(path.dirname(tarball), { recursive: true });
  // The extension tells mmdebstrap to compress with zstd.
  const owner = currentOwner();
  const part = tarball.replace(/\.tar\.zst$/, `.kiln-part-${owner.pid}-${owner.start}.tar.zst`);
  try {
    await createBase(spec, part, log);
    fs.renameSync(part, tarball);
  } finally {
    fs.rmSync(part, { force: true });
  }
  fs.writeFileSync(`${tarball}.json`, `${JSON.stringify({ ...spec, key: baseKey(spec), created: new Date().toISOString() }, null, 2)}\n`);
  return { tarball, hit: false };
}

async function createBase(spec: BaseSpec, out: string, log: Logger): Promise<void> {
  const onLine = (line: string) => log.output(line);
  if (await hasCommand('mmdebstrap')) {
    await run(
      'mmdebstrap',
      [
        `--variant=${spec.variant}`,
        `--architectures=${spec.arch}`,
        `--components=${spec.components.join(',')}`,
        '--mode=root',
        '--format=tar',
        '--skip=cleanup/apt/lists',
        // An expired Release file (a frozen mirror): apt's Valid-Until check off while mmdebstrap runs, not kept in the tree.
        ...(spec.ignoreValidUntil ? ['--aptopt=Acquire::Check-Valid-Until "false"', '--customize-hook=rm -f "$1/etc/apt/apt.conf.d/99mmdebstrap"'] : []),
        ...(spec.include.length > 0 ? [`--include=${spec.include.join(',')}`] : []),
        spec.release,
        out,
        ...sourceLines(spec),
      ],
      { onLine, label: 'mmdebstrap', env: { ...process.env, TMPDIR: path.dirname(out) } },
    );
    return;
  }
  if (!(await hasCommand('debootstrap'))) throw failed('neither mmdebstrap nor debootstrap is installed', { hint: 'apt-get install mmdebstrap' });
  const dir = `${out}.d`;
  try {
    await run('debootstrap', [`--variant=${spec.variant}`, `--arch=${spec.arch}`, `--components=${spec.components.join(',')}`, ...(spec.include.length > 0 ? [`--include=${spec.include.join(',')}`] : []), spec.release, dir, spec.mirror], { onLine, label: 'debootstrap' });
    await run('tar', ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', dir, '-cf', out, '.'], { label: 'tar' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Unpacks a base tarball into an (empty) target directory. */
export async function extractBase(tarball: string, target: string): Promise<void> {
  fs.mkdirSync(target, { recursive: true });
  // A rootless build cannot make the tarball's device nodes: left out (lib/namespace/rootless.ts).
  const excludes = await deviceExcludes(tarball, 'zstd -d');
  await run('tar', ['--zstd', '-xpf', tarball, '-C', target, '--numeric-owner', '--xattrs', '--xattrs-include=*', ...excludes], { label: 'unpack base tree' });
}
