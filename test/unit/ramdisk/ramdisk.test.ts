import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readElfDeps, isElf } from '../../../lib/ramdisk/elf.js';
import { ldSoConfDirs, libraryClosure } from '../../../lib/ramdisk/libs.js';
import { moduleName, newestFirst, selectModules } from '../../../lib/ramdisk/modules.js';
import { composeInit } from '../../../lib/ramdisk/init.js';
import { copyFromTree, findInTree, resolveInTree } from '../../../lib/ramdisk/tree.js';
import { findKernel, parseBinaryDeps, stageRamdisk } from '../../../lib/ramdisk/assemble.js';
import { isKilnError } from '../../../lib/errors/index.js';
import { tempDir } from '../../helpers/tmp.js';

const tmp = () => tempDir('ramdisk-unit');
const lsPath = fs.realpathSync('/bin/ls');

describe('readElfDeps reads the dynamic-linking facts from the headers', () => {
  test('a dynamic executable of this host: interpreter and libc among DT_NEEDED', () => {
    const deps = readElfDeps(fs.readFileSync(lsPath), lsPath);
    expect(deps.class).toBe(64);
    expect(deps.interpreter).toMatch(/^\/lib.*\/ld-linux.*\.so\.\d$/);
    expect(deps.needed).toContain('libc.so.6');
  });
  test('a shared library has no interpreter but has DT_NEEDED', () => {
    const libc = fs.realpathSync('/lib/x86_64-linux-gnu/libc.so.6');
    const deps = readElfDeps(fs.readFileSync(libc), libc);
    expect(deps.needed.some((n) => n.startsWith('ld-linux'))).toBe(true);
  });
  test('not an ELF, or truncated: an error naming the file', () => {
    expect(isElf(Buffer.from('#!/bin/sh\n'))).toBe(false);
    expect(() => readElfDeps(Buffer.from('#!/bin/sh\n'), '/usr/bin/script')).toThrow('/usr/bin/script is not an ELF file');
    const head = fs.readFileSync(lsPath).subarray(0, 80);
    expect(() => readElfDeps(head, 'cut')).toThrow(/cut: truncated ELF/);
  });
});

describe('paths inside a tree', () => {
  let root: string;
  beforeAll(() => {
    root = tmp();
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr/lib/x'), { recursive: true });
    fs.symlinkSync('usr/bin', path.join(root, 'bin'));
    fs.symlinkSync('/usr/lib', path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'usr/bin/tool'), 'tool', { mode: 0o755 });
    fs.writeFileSync(path.join(root, 'usr/lib/x/libz.so.1.2'), 'z');
    fs.symlinkSync('libz.so.1.2', path.join(root, 'usr/lib/x/libz.so.1'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'usr/bin/escape'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('absolute and relative symlinks resolve inside the tree, never to the host', () => {
    expect(resolveInTree(root, '/bin/tool')).toEqual({ real: '/usr/bin/tool', links: [{ path: '/bin', target: 'usr/bin' }] });
    expect(resolveInTree(root, '/lib/x/libz.so.1')?.real).toBe('/usr/lib/x/libz.so.1.2');
    expect(resolveInTree(root, '/usr/bin/escape')).toBeUndefined();
    expect(resolveInTree(root, '/bin/../bin/tool')?.real).toBe('/usr/bin/tool');
  });
  test('findInTree searches the directories in order', () => {
    expect(findInTree(root, 'tool', ['/sbin', '/bin'])).toBe('/bin/tool');
    expect(findInTree(root, 'nope', ['/sbin', '/bin'])).toBeUndefined();
  });
  test('copyFromTree recreates the symlinks on the way and copies the file with its mode', () => {
    const dest = tmp();
    expect(copyFromTree(root, dest, '/lib/x/libz.so.1')).toBe('/usr/lib/x/libz.so.1.2');
    expect(copyFromTree(root, dest, '/bin/tool')).toBe('/usr/bin/tool');
    expect(fs.readlinkSync(path.join(dest, 'lib'))).toBe('/usr/lib');
    expect(fs.readlinkSync(path.join(dest, 'usr/lib/x/libz.so.1'))).toBe('libz.so.1.2');
    expect(fs.readlinkSync(path.join(dest, 'bin'))).toBe('usr/bin');
    expect(fs.statSync(path.join(dest, 'usr/bin/tool')).mode & 0o777).toBe(0o755);
    fs.rmSync(dest, { recursive: true, force: true });
  });
});

describe('libraryClosure resolves libraries as the loader would', () => {
  test('ls on this host: the loader and libc, each once', () => {
    const c = libraryClosure('/', lsPath);
    expect(c.missing).toEqual([]);
    expect(c.files[0]).toBe(lsPath);
    expect(c.files.some((f) => /\/libc\.so\.6$/.test(f))).toBe(true);
    expect(c.files.some((f) => /ld-linux/.test(f))).toBe(true);
    const reals = c.files.map((f) => resolveInTree('/', f)?.real);
    expect(new Set(reals).size).toBe(reals.length);
  });
  test('ld.so.conf includes are followed', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'etc/ld.so.conf.d'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf'), '# c\ninclude /etc/ld.so.conf.d/*.conf\n/opt/lib\n');
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf.d/b.conf'), '/usr/lib/b\n');
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf.d/a.conf'), '/usr/lib/a # x\n');
    expect(ldSoConfDirs(root)).toEqual(['/usr/lib/a', '/usr/lib/b', '/opt/lib']);
    fs.rmSync(root, { recursive: true, force: true });
  });
  test('a library the tree lacks is reported with who needs it', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.copyFileSync(lsPath, path.join(root, 'usr/bin/ls'));
    const c = libraryClosure(root, '/usr/bin/ls');
    expect(c.missing).toContainEqual({ by: '/usr/bin/ls', name: 'libc.so.6' });
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('selectModules', () => {
  const dep = [
    'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio.ko:',
    'kernel/fs/ext4/ext4.ko.xz: kernel/fs/mbcache.ko.xz kernel/fs/jbd2/jbd2.ko.xz',
    'kernel/fs/mbcache.ko.xz:',
    'kernel/fs/jbd2/jbd2.ko.xz:',
    'kernel/drivers/net/e1000/e1000.ko:',
  ].join('\n');
  test('dependencies first, only what is wanted, modules.dep for exactly those', () => {
    const s = selectModules(dep, 'kernel/drivers/virtio/virtio_pci.ko\n', ['virtio-blk', 'ext4', 'virtio_pci', 'nosuch']);
    expect(s.order).toEqual(['virtio', 'virtio_ring', 'virtio_blk', 'mbcache', 'jbd2', 'ext4']);
    expect(s.builtin).toEqual(['virtio_pci']);
    expect(s.unknown).toEqual(['nosuch']);
    expect(s.modulesDep).not.toMatch(/e1000/);
    expect(s.modulesDep.split('\n')).toContain('kernel/drivers/virtio/virtio.ko:');
  });
  test('names and versions', () => {
    expect(moduleName('kernel/fs/ext4/ext4.ko.zst')).toBe('ext4');
    expect(moduleName('kernel/a/snd-hda.ko')).toBe('snd_hda');
    expect(newestFirst(['6.1.0-9-amd64', '6.1.0-10-amd64', '5.10.0-1-amd64'])).toEqual(['6.1.0-10-amd64', '6.1.0-9-amd64', '5.10.0-1-amd64']);
  });
});

describe('init and binary-deps', () => {
  test('composeInit: the default part, the fragments in order with their flavour named, then a rescue shell', () => {
    const init = composeInit([
      { flavour: 'a', text: '#!/bin/sh\necho A\n' },
      { flavour: 'b', text: 'echo B' },
    ]);
    expect(init.startsWith('#!/bin/sh\n')).toBe(true);
    const a = init.indexOf('# ---- init fragment of flavour a ----\necho A');
    const b = init.indexOf('# ---- init fragment of flavour b ----\necho B');
    expect(a).toBeGreaterThan(init.indexOf('kiln_network_up()'));
    expect(b).toBeGreaterThan(a);
    expect(init.indexOf('exec setsid cttyhack sh')).toBeGreaterThan(b);
    expect(init.match(/^#!/gm)).toHaveLength(1);
  });
  test('parseBinaryDeps: words, comments and blank lines', () => {
    expect(parseBinaryDeps('# tools\nqemu-img  sfdisk\n\nblkid # ids\n')).toEqual(['qemu-img', 'sfdisk', 'blkid']);
  });
});

describe('stageRamdisk refuses a tree it cannot make a ramdisk of', () => {
  const errorOf = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
  test('no kernel: invalid input', async () => {
    const root = tmp();
    const e = await errorOf(stageRamdisk({ tree: root, staging: tmp(), flavours: [] }));
    expect(isKilnError(e) && e.kind).toBe('invalid');
    expect(String((e as Error).message)).toMatch(/no kernel/);
    expect(findKernel(root)).toBeUndefined();
  });
  test('a missing binary-dep names the flavour and the file', async () => {
    const root = tmp();
    for (const d of ['boot', 'lib/modules/6.1.0-9-amd64', 'usr/bin']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, 'boot/vmlinuz-6.1.0-9-amd64'), 'k');
    fs.writeFileSync(path.join(root, 'usr/bin/busybox'), 'b', { mode: 0o755 });
    const deps = path.join(tmp(), 'binary-deps');
    fs.writeFileSync(deps, 'no-such-tool\n');
    expect(findKernel(root)?.version).toBe('6.1.0-9-amd64');
    const e = await errorOf(stageRamdisk({ tree: root, staging: tmp(), flavours: [{ name: 'mine', binaryDeps: deps }] }));
    expect(isKilnError(e) && e.kind).toBe('invalid');
    expect(String((e as Error).message)).toContain('[mine] binary-deps: "no-such-tool" is not in the built tree');
  });
});

describe('the composed /init is valid shell', () => {
  test('kiln default part + the deploy fragment parse under busybox sh -n', () => {
    const deploy = fs.readFileSync(path.resolve('flavours/deploy/init'), 'utf8');
    const file = path.join(tmp(), 'init');
    fs.writeFileSync(file, composeInit([{ flavour: 'deploy', text: deploy }]));
    const r = spawnSync('busybox', ['sh', '-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
