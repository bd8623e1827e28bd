/**
 * A kernel + initramfs pair from a built tree: a static busybox, every flavour's binary-deps with the
 * libraries their ELF headers name, the kernel modules to reach disks and the network (with their
 * modules.dep), and /init composed of kiln's default part and each flavour's fragment. The archive is
 * newc cpio, owned by root, in a stable order, compressed with gzip or zstd.
 */
import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { failed, invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import { clampTree } from '../output/epoch.js';
import { copyFromTree, findInTree, resolveInTree } from './tree.js';
import { ldSoConfDirs, libraryClosure } from './libs.js';
import { DEFAULT_MODULES, newestFirst, selectModules } from './modules.js';
import { composeInit, UDHCPC_SCRIPT, type InitFragment } from './init.js';
import { hostPath } from '../rootfs/paths.js';
import { inUserNamespace } from '../namespace/rootless.js';
import { patchDeviceFile, RAMDISK_DEVICES } from './cpio-devices.js';

export type RamdiskCompression = 'gzip' | 'zstd';

export const EXEC_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface RamdiskFlavour {
  readonly name: string;
  readonly binaryDeps?: string;
  readonly init?: string;
}

export interface RamdiskInput {
  readonly tree: string;
  /** An empty directory to stage the ramdisk's tree in. */
  readonly staging: string;
  readonly flavours: readonly RamdiskFlavour[];
  readonly modules?: readonly string[];
}

export interface StagedRamdisk {
  readonly kernelVersion: string;
  /** The kernel image inside the tree (host path). */
  readonly kernel: string;
  readonly binaries: readonly { flavour: string; name: string; path: string; libraries: number }[];
  readonly modules: readonly string[];
  readonly unknownModules: readonly string[];
}

/** The names in a binary-deps file: whitespace separated, # comments. */
export function parseBinaryDeps(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, ''))
    .flatMap((l) => l.split(/\s+/))
    .filter((w) => w !== '');
}

/** The newest kernel in the tree that has its modules: /boot/vmlinuz-VERSION + /lib/modules/VERSION. */
export function findKernel(tree: string): { version: string; kernel: string } | undefined {
  // /boot and each kernel resolved inside the tree: a link never brings a host file into the outputs.
  const boot = hostPath(tree, 'boot');
  const names = fs.existsSync(boot) ? fs.readdirSync(boot) : [];
  const versions = names.filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length));
  for (const v of newestFirst(versions)) {
    const mods = resolveInTree(tree, `/lib/modules/${v}`);
    const kernel = hostPath(tree, `boot/vmlinuz-${v}`);
    if (mods && fs.lstatSync(kernel, { throwIfNoEntry: false })?.isFile()) return { version: v, kernel };
  }
  return undefined;
}

function readTreeFile(tree: string, p: string): string {
  const r = resolveInTree(tree, p);
  return r ? fs.readFileSync(path.join(tree, r.real), 'utf8') : '';
}

/** Fills `staging` with the ramdisk's tree. Throws an invalid-input error naming the flavour for a missing binary-dep. */
export async function stageRamdisk(input: RamdiskInput): Promise<StagedRamdisk> {
  const { tree, staging } = input;
  const kernel = findKernel(tree);
  if (!kernel) throw invalid('the tree has no kernel (/boot/vmlinuz-VERSION with /lib/modules/VERSION): a ramdisk needs an operating-system flavour that installs one');
  const busybox = findInTree(tree, 'busybox', EXEC_DIRS);
  if (!busybox) throw invalid('the tree has no busybox: the ramdisk-base flavour installs busybox-static');

  const conf = ldSoConfDirs(tree);
  const binaries: StagedRamdisk['binaries'][number][] = [];
  const want: { flavour: string; name: string; path: string }[] = [{ flavour: 'kiln', name: 'busybox', path: busybox }];
  for (const f of input.flavours) {
    if (!f.binaryDeps) continue;
    for (const name of parseBinaryDeps(fs.readFileSync(f.binaryDeps, 'utf8'))) {
      const p = findInTree(tree, name, EXEC_DIRS);
      if (!p) throw invalid(`[${f.name}] binary-deps: "${name}" is not in the built tree (looked in ${EXEC_DIRS.join(', ')})`, `${f.binaryDeps}: install the package that provides it (package-installs.yaml)`);
      want.push({ flavour: f.name, name, path: p });
    }
  }
  for (const w of want) {
    const closure = libraryClosure(tree, w.path, conf);
    if (closure.missing.length > 0) {
      const m = closure.missing.map((x) => `${x.name} (needed by ${x.by})`).join(', ');
      throw failed(`[${w.flavour}] binary-deps: ${w.name} needs libraries the tree does not have: ${m}`);
    }
    for (const f of closure.files) copyFromTree(tree, staging, f);
    binaries.push({ ...w, libraries: closure.files.length - 1 });
  }

  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/kiln', 'proc', 'sys', 'dev', 'run', 'tmp', 'mnt', 'root', 'var/log']) {
    fs.mkdirSync(path.join(staging, d), { recursive: true });
  }
  const link = (at: string, target: string) => {
    const p = path.join(staging, at);
    if (!fs.existsSync(p)) fs.symlinkSync(target, p);
  };
  link('bin/busybox', busybox);
  link('bin/sh', '/bin/busybox');
  for (const d of RAMDISK_DEVICES) {
    const p = path.join(staging, d.name);
    if (inUserNamespace()) {
      // A rootless build cannot mknod: an empty file in its place, made a device in the archive (packRamdisk).
      fs.writeFileSync(p, '');
      fs.chmodSync(p, d.mode);
    } else await run('mknod', ['-m', d.mode.toString(8), p, 'c', String(d.major), String(d.minor)]);
  }
  fs.writeFileSync(path.join(staging, 'etc/resolv.conf'), '');
  fs.writeFileSync(path.join(staging, 'etc/kiln/udhcpc.script'), UDHCPC_SCRIPT, { mode: 0o755 });

  const modules = await stageModules(tree, staging, kernel.version, input.modules ?? DEFAULT_MODULES);
  const fragments: InitFragment[] = input.flavours.filter((f) => f.init).map((f) => ({ flavour: f.name, text: fs.readFileSync(f.init as string, 'utf8') }));
  fs.writeFileSync(path.join(staging, 'init'), composeInit(fragments), { mode: 0o755 });
  return { kernelVersion: kernel.version, kernel: kernel.kernel, binaries, modules: modules.order, unknownModules: modules.unknown };
}

async function stageModules(tree: string, staging: string, version: string, wanted: readonly string[]) {
  const dir = `/lib/modules/${version}`;
  const sel = selectModules(readTreeFile(tree, `${dir}/modules.dep`), readTreeFile(tree, `${dir}/modules.builtin`), wanted);
  let depText = sel.modulesDep;
  for (const rel of sel.files) {
    const real = copyFromTree(tree, staging, `${dir}/${rel}`);
    const compressed = /\.ko\.(xz|zst|gz)$/.exec(rel);
    if (compressed) {
      // busybox modprobe loads plain .ko files: decompress here and rename in modules.dep.
      const tool = { xz: 'xz', zst: 'zstd', gz: 'gzip' }[compressed[1] as 'xz' | 'zst' | 'gz'];
      await run(tool, ['-d', '-q', '-f', path.join(staging, real)]);
      depText = depText.replaceAll(rel, rel.replace(/\.(xz|zst|gz)$/, ''));
    }
  }
  for (const f of ['modules.builtin', 'modules.order']) {
    if (resolveInTree(tree, `${dir}/${f}`)) copyFromTree(tree, staging, `${dir}/${f}`);
  }
  const modDir = resolveInTree(staging, dir);
  const out = modDir ? path.join(staging, modDir.real) : path.join(staging, dir);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'modules.dep'), depText);
  fs.writeFileSync(path.join(staging, 'etc/kiln/modules'), `${sel.order.join('\n')}\n`);
  return sel;
}

/**
 * Packs `staging` as a newc cpio archive (root-owned, paths sorted, without inode numbers) compressed
 * into `dest`; with an epoch (SOURCE_DATE_EPOCH), no entry's time is later than it.
 */
export async function packRamdisk(staging: string, dest: string, compression: RamdiskCompression, epoch?: number): Promise<void> {
  const entries = ['.', ...(await fg('**', { cwd: staging, dot: true, onlyFiles: false, followSymbolicLinks: false }))].sort();
  if (epoch !== undefined) clampTree(staging, epoch, { fingerprint: false });
  const cpio = `${dest}.cpio`;
  try {
    await run('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0', '--reproducible', '-F', cpio], { cwd: staging, input: `${entries.join('\n')}\n` });
    patchDeviceFile(cpio, RAMDISK_DEVICES);
    if (compression === 'gzip') {
      // pigz: the same gzip stream, on every core.
      await run('pigz', ['-9', '-n', '-f', cpio]);
      fs.renameSync(`${cpio}.gz`, dest);
    } else {
      await run('zstd', ['-q', '-f', '-15', '-T0', '--rm', '-o', dest, cpio]);
    }
  } finally {
    fs.rmSync(cpio, { force: true });
    fs.rmSync(`${cpio}.gz`, { force: true });
  }
}
