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
  });
  return crypto.createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

/** apt source lines for the base tree (main archive, updates, security when known). */
export function sourceLines(spec: BaseSpec): string[] {
  const comps = spec.components.join(' ');
  const lines = [`deb ${spec.mirror} ${spec.release} ${comps}`];
  if (!['sid', 'unstable'].includes(spec.release)) {
    lines.push(`deb ${spec.mirror} ${spec.release}-updates ${comps}`);
    if (spec.security) lines.push(`deb ${spec.security} ${spec.release}-security ${comps}`);
  }
  return lines;
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
    fs.writeFileSync(path.join(dir, 'etc/apt/sources.list'), `${sourceLines(spec).join('\n')}\n`);
    await run('tar', ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', dir, '-cf', out, '.'], { label: 'tar' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Unpacks a base tarball into an (empty) target directory. */
export async function extractBase(tarball: string, target: string): Promise<void> {
  fs.mkdirSync(target, { recursive: true });
  await run('tar', ['--zstd', '-xpf', tarball, '-C', target, '--numeric-owner', '--xattrs', '--xattrs-include=*'], { label: 'unpack base tree' });
}
