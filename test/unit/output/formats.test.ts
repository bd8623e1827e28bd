import { FORMATS, type Format } from '../../../lib/output/formats.js';
import { WRITERS } from '../../../lib/output/registry.js';
import type { FormatInput } from '../../../lib/output/types.js';

const base: FormatInput = { tree: '/t', raw: '/w/disk.raw', dest: '/o/.img.x.kiln-part-1', final: '/o/img.x', scratch: '/o/.img.x.scratch.kiln-part-1', uncompressed: false, qcow2Compression: 'zstd', tools: new Set() };
const excludes = ['--anchored', '--exclude=./proc/*', '--exclude=./sys/*', '--exclude=./dev/*', '--directory', '/t', '.'];
const tarHead = ['--create', '--file', base.dest, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sort=name', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];

const cases: [string, Format, Partial<FormatInput>, string, string[]][] = [
  ['qcow2 compressed (zstd)', 'qcow2', {}, 'qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-c', '-o', 'compat=1.1,compression_type=zstd,cluster_size=262144', '-m', '16', '/w/disk.raw', base.dest]],
  ['qcow2 compressed (zlib)', 'qcow2', { qcow2Compression: 'zlib' }, 'qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-c', '-o', 'compat=1.1,compression_type=zlib,cluster_size=262144', '-m', '16', '/w/disk.raw', base.dest]],
  ['qcow2 -u', 'qcow2', { uncompressed: true }, 'qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', 'compat=1.1', '-m', '16', '/w/disk.raw', base.dest]],
  ['raw', 'raw', {}, 'qemu-img', ['convert', '-f', 'raw', '-O', 'raw', '-W', '/w/disk.raw', base.dest]],
  ['vhd', 'vhd', {}, 'qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', '/w/disk.raw', base.dest]],
  ['vmdk', 'vmdk', {}, 'qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic', '/w/disk.raw', base.dest]],
  ['tar', 'tar', {}, 'tar', [...tarHead, ...excludes]],
  ['oci: the tree tar first (finish() makes the layer and the archive)', 'oci', {}, 'tar', [...tarHead, ...excludes]],
  ['tgz with pigz', 'tgz', { tools: new Set(['pigz']) }, 'tar', [...tarHead, '--use-compress-program=pigz -n', ...excludes]],
  ['tgz without pigz', 'tgz', {}, 'tar', [...tarHead, '--use-compress-program=gzip -n', ...excludes]],
  ['tar with SOURCE_DATE_EPOCH', 'tar', { epoch: 1700000000 }, 'tar', [...tarHead, '--mtime=@1700000000', '--clamp-mtime', ...excludes]],
  ['squashfs with SOURCE_DATE_EPOCH', 'squashfs', { epoch: 1700000000 }, 'mksquashfs', ['/t', base.dest, '-noappend', '-comp', 'zstd', '-Xcompression-level', '3', '-xattrs', '-no-progress', '-quiet', '-mkfs-time', '1700000000', '-wildcards', '-e', 'proc/*', 'sys/*', 'dev/*']],
  ['squashfs', 'squashfs', {}, 'mksquashfs', ['/t', base.dest, '-noappend', '-comp', 'zstd', '-Xcompression-level', '3', '-xattrs', '-no-progress', '-quiet', '-wildcards', '-e', 'proc/*', 'sys/*', 'dev/*']],
];

describe('argv per format', () => {
  test.each(cases)('%s', (_name, format, over, cmd, args) => {
    expect(WRITERS[format].commands({ ...base, ...over })).toEqual([{ cmd, args }]);
  });
  test('every format has a writer that says which format it is', () => {
    for (const f of FORMATS) expect(WRITERS[f].format).toBe(f);
  });
  test.each(['qcow2', 'raw', 'vhd', 'vmdk'] as const)('%s without a disk is a clear error', (f) => {
    expect(() => WRITERS[f].commands({ ...base, raw: undefined })).toThrow(`${f} output needs a disk image`);
  });
});
