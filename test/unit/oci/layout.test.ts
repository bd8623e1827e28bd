/**
 * OCI image layouts and `-t oci`: the pure parts (platforms, names, labels, tar headers) as tables, then a
 * small tree written as NAME.oci.tar by the real output path (GNU tar for the tree, kiln's layer and archive
 * writers) and read back by the real skopeo and GNU tar: one layer that is the `tar` output byte for byte, OCI
 * media types, digests that match the bytes, the same bytes twice.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { ociPlatform } from '../../../lib/distro/arch.js';
import { gzipMembers, pipe } from '../../../lib/oci/blobs.js';
import { imageConfigJson, repositoryName, rfc3339 } from '../../../lib/oci/image.js';
import { imageLabels } from '../../../lib/oci/labels.js';
import { MEDIA_TYPES } from '../../../lib/oci/media.js';
import { paxRecord, tarHeader, tarStream } from '../../../lib/oci/tar.js';
import { writeFormat } from '../../../lib/output/registry.js';
import type { FormatRequest } from '../../../lib/output/types.js';
import { thrown } from '../helpers/errors.js';
import { command, describeIf } from '../../helpers/requires.js';
import { output } from '../../helpers/sh.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-oci-layout');
const E = 1_700_000_000;
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('platforms, names, times and labels', () => {
  test.each([
    ['amd64', { architecture: 'amd64' }],
    ['arm64', { architecture: 'arm64', variant: 'v8' }],
    ['armhf', { architecture: 'arm', variant: 'v7' }],
    ['i386', { architecture: '386' }],
    ['ppc64el', { architecture: 'ppc64le' }],
    ['s390x', { architecture: 's390x' }],
    ['riscv64', { architecture: 'riscv64' }],
  ])('Debian %s is OCI %j', (deb, oci) => {
    expect(ociPlatform(deb)).toEqual(oci);
  });

  test('an architecture kiln has no platform for is bad input', () => {
    const e = thrown(() => ociPlatform('mips'));
    expect([e.exitCode, e.message]).toEqual([2, 'architecture "mips": kiln knows no OCI platform for it']);
  });

  test.each([
    ['img', 'img'],
    ['My Image_v2', 'my-image_v2'],
    ['debian--12..x', 'debian-12-x'],
    ['-._', undefined],
    ['Ünïcode', 'n-code'],
  ])('output %j loads as repository %j', (name, repo) => {
    expect(repositoryName(name)).toBe(repo);
  });

  test('times are RFC 3339 in UTC, to the second', () => {
    expect(rfc3339(1577836800)).toBe('2020-01-01T00:00:00Z');
  });

  test("labels: OCI's keys where one fits, kiln's own, nothing for what the manifest lacks", () => {
    const facts = { build: { id: 'b-1', flavours: ['debian', 'vm'], arch: 'amd64', layout: 'efi', kiln: '0.1.0' }, os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' } };
    expect(imageLabels(facts, { title: 'img', epoch: E, manifestSha256: 'ab' })).toEqual({
      'org.opencontainers.image.title': 'img',
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.description': 'Debian GNU/Linux 12 (bookworm)',
      'org.opencontainers.image.version': '12',
      'kiln.os': 'debian',
      'kiln.build.id': 'b-1',
      'kiln.flavours': 'debian vm',
      'kiln.version': '0.1.0',
      'kiln.arch': 'amd64',
      'kiln.layout': 'efi',
      'kiln.manifest.sha256': 'ab',
    });
    expect(imageLabels({ build: { layout: null } }, { title: 't', epoch: 0 })).toEqual({ 'org.opencontainers.image.title': 't', 'org.opencontainers.image.created': '1970-01-01T00:00:00Z' });
  });

  test('the config: platform, time, diff ids, sorted labels, fixed key order', () => {
    const json = imageConfigJson({ platform: { architecture: 'arm64', variant: 'v8', os: 'linux' }, created: '2020-01-01T00:00:00Z', diffIds: ['sha256:aa'], labels: { b: '2', a: '1' }, createdBy: 'kiln' });
    expect(json).toBe(
      '{"created":"2020-01-01T00:00:00Z","architecture":"arm64","variant":"v8","os":"linux","config":{"Labels":{"a":"1","b":"2"}},' +
        '"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created":"2020-01-01T00:00:00Z","created_by":"kiln"}]}',
    );
  });
});

describe('gzip in members', () => {
  const squeeze = async (input: Buffer, parallel: number) => {
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
    await pipe(Readable.from([input.subarray(0, 5000), input.subarray(5000)]), gzipMembers(16 * 1024, parallel), sink);
    return Buffer.concat(chunks);
  };

  test('cut at fixed offsets: the same bytes however many at once, one member per 16 KiB, gunzipped whole', async () => {
    const input = Buffer.concat([crypto.randomBytes(20_000), Buffer.alloc(30_000, 'kiln ')]);
    const one = await squeeze(input, 1);
    expect((await squeeze(input, 3)).equals(one)).toBe(true);
    // Each member starts with gzip's magic and deflate's method byte.
    let members = 0;
    for (let i = one.indexOf('\x1f\x8b\x08', 0, 'latin1'); i >= 0; i = one.indexOf('\x1f\x8b\x08', i + 1, 'latin1')) members++;
    expect(members).toBeGreaterThanOrEqual(4);
    expect(zlib.gunzipSync(one).equals(input)).toBe(true);
  });

  test('an empty input is still a gzip file', async () => {
    const empty = await squeeze(Buffer.alloc(0), 2);
    expect(zlib.gunzipSync(empty).length).toBe(0);
  });
});

describe('tar headers', () => {
  test.each([1, 90, 91, 92, 989, 990, 991])('a pax record with a %i-byte value counts its own length', (n) => {
    const r = paxRecord('path', 'x'.repeat(n));
    expect(Number(r.split(' ')[0])).toBe(Buffer.byteLength(r));
  });

  test('a file of 8 GiB or more gets its size from a pax header; a smaller one has none', () => {
    const big = tarHeader({ name: 'disk/x.raw', type: 'file', mode: 0o440, uid: 107, gid: 107, mtime: E }, 2 ** 33);
    expect(big.length).toBe(3 * 512);
    expect(big.subarray(512, 1024).toString('latin1')).toContain(' size=8589934592\n');
    expect(big.subarray(1024, 1124).toString('latin1').replace(/\0+$/, '')).toBe('disk/x.raw');
    expect(tarHeader({ name: 'disk/x.raw', type: 'file', mode: 0o440, uid: 107, gid: 107, mtime: E }, 2 ** 33 - 1).length).toBe(512);
  });

  describeIf(command('tar'))('read back by GNU tar', () => {
    test('directories, files from bytes and from disk, long and non-ASCII names: owners, modes, times, contents', async () => {
      const src = path.join(work, 'src.bin');
      fs.writeFileSync(src, crypto.randomBytes(70_000));
      const long = `d/${'n'.repeat(150)}`;
      const own = { uid: 107, gid: 108, mtime: E };
      const archive = path.join(work, 'headers.tar');
      await pipe(
        tarStream([
          { name: 'd', type: 'dir', mode: 0o555, ...own },
          { name: long, type: 'file', mode: 0o440, source: src, ...own },
          { name: 'd/ü.txt', type: 'file', mode: 0o644, source: Buffer.from('hello\n'), ...own },
        ]),
        fs.createWriteStream(archive),
      );
      const list = output('tar', ['--numeric-owner', '--full-time', '-tvf', archive]).trim().split('\n');
      expect(list.map((l) => l.split(/\s+/).slice(0, 3).concat(l.split(/\s+/).slice(5)))).toEqual([
        ['dr-xr-xr-x', '107/108', '0', 'd/'],
        ['-r--r-----', '107/108', '70000', long],
        ['-rw-r--r--', '107/108', '6', 'd/ü.txt'],
      ]);
      expect(list.every((l) => l.includes('2023-11-14 22:13:20'))).toBe(true);
      expect(sha256(spawnSync('tar', ['-xOf', archive, long], { maxBuffer: 2 ** 20 }).stdout)).toBe(sha256(fs.readFileSync(src)));
      expect(output('tar', ['-xOf', archive, 'd/ü.txt'])).toBe('hello\n');
    });
  });
});

describeIf(command('skopeo'), command('tar'), command('busybox', 'busybox-static'))('-t oci of a small tree', () => {
  const tree = path.join(work, 'tree');
  const out = path.join(work, 'out');
  const final = path.join(out, 'img.oci.tar');
  const request = (dest: string, format: 'oci' | 'tar', fin = final): FormatRequest => ({
    tree,
    raw: undefined,
    dest,
    final: fin,
    uncompressed: false,
    qcow2Compression: 'zstd',
    tools: new Set(),
    epoch: E,
    build: { flavours: ['busybox', 'extra'], arch: 'amd64' },
  });
  let archive: Buffer;
  let treeTar: Buffer;
  const member = (name: string) => spawnSync('tar', ['-xOf', final, name], { maxBuffer: 2 ** 26 }).stdout;

  beforeAll(async () => {
    for (const d of ['bin', 'etc', 'proc/1']) fs.mkdirSync(path.join(tree, d), { recursive: true });
    fs.copyFileSync(output('sh', ['-c', 'command -v busybox']).trim(), path.join(tree, 'bin', 'busybox'));
    fs.chmodSync(path.join(tree, 'bin', 'busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(tree, 'bin', 'sh'));
    fs.writeFileSync(path.join(tree, 'etc', 'motd'), 'kiln\n');
    fs.writeFileSync(path.join(tree, 'etc', 'os-release'), 'ID=kilntest\nVERSION_ID="1"\nPRETTY_NAME="kiln test tree"\n');
    fs.writeFileSync(path.join(tree, 'proc', '1', 'status'), 'left out\n');
    fs.writeFileSync(path.join(tree, 'etc', 'owned'), 'x', { mode: 0o640 });
    fs.mkdirSync(out);
    await writeFormat('oci', request(path.join(out, '.img.oci.tar.kiln-part-a'), 'oci'), { label: 'oci' });
    fs.renameSync(path.join(out, '.img.oci.tar.kiln-part-a'), final);
    await writeFormat('tar', request(path.join(out, 'img.tar'), 'tar', path.join(out, 'img.tar')), { label: 'tar' });
    archive = fs.readFileSync(final);
    treeTar = fs.readFileSync(path.join(out, 'img.tar'));
  });

  test('the archive: an OCI layout and docker’s manifest.json, owned by root, dated the epoch, in name order; no scratch left', () => {
    const list = output('tar', ['--numeric-owner', '--full-time', '-tvf', final]).trim().split('\n');
    const names = list.map((l) => l.split(/\s+/).slice(5).join(' '));
    expect(names.filter((n) => !/^blobs\/sha256\/./.test(n))).toEqual(['blobs/', 'blobs/sha256/', 'index.json', 'manifest.json', 'oci-layout']);
    expect(names.filter((n) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(n))).toHaveLength(3);
    expect(list.every((l) => / 0\/0 /.test(l) && l.includes('2023-11-14 22:13:20'))).toBe(true);
    expect(JSON.parse(member('oci-layout').toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(fs.readdirSync(out).sort()).toEqual(['img.oci.tar', 'img.tar']);
  });

  test('index → manifest → config and one layer: OCI media types, digests and sizes of the bytes, the layer is the tar output', () => {
    const index = JSON.parse(member('index.json').toString());
    expect(index.mediaType).toBe(MEDIA_TYPES.index);
    expect(index.manifests).toHaveLength(1);
    const entry = index.manifests[0];
    expect(entry).toMatchObject({ mediaType: MEDIA_TYPES.manifest, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'org.opencontainers.image.ref.name': 'img:latest' } });
    const blob = (digest: string) => member(`blobs/sha256/${digest.slice(7)}`);
    const manifestBytes = blob(entry.digest);
    expect([`sha256:${sha256(manifestBytes)}`, manifestBytes.length]).toEqual([entry.digest, entry.size]);
    const manifest = JSON.parse(manifestBytes.toString());
    expect(manifest.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(manifest.config.mediaType).toBe(MEDIA_TYPES.config);
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([MEDIA_TYPES.layerGzip]);
    const layer = blob(manifest.layers[0].digest);
    expect([`sha256:${sha256(layer)}`, layer.length]).toEqual([manifest.layers[0].digest, manifest.layers[0].size]);
    const config = JSON.parse(blob(manifest.config.digest).toString());
    // The layer, uncompressed, is byte for byte what `-t tar` writes of the same tree.
    expect(zlib.gunzipSync(layer).equals(treeTar)).toBe(true);
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [`sha256:${sha256(treeTar)}`] });
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', created: '2023-11-14T22:13:20Z', config: { Cmd: ['/bin/sh'] } });
    expect(config.config.Labels).toMatchObject({ 'org.opencontainers.image.title': 'img', 'org.opencontainers.image.description': 'kiln test tree', 'kiln.flavours': 'busybox extra', 'kiln.os': 'kilntest' });
    expect(manifest.annotations).toEqual(config.config.Labels);
    // Docker's manifest.json names the same config and layer, tagged NAME:latest.
    expect(JSON.parse(member('manifest.json').toString())).toEqual([
      { Config: `blobs/sha256/${manifest.config.digest.slice(7)}`, RepoTags: ['img:latest'], Layers: [`blobs/sha256/${manifest.layers[0].digest.slice(7)}`] },
    ]);
  });

  test('skopeo reads it: one layer, the platform, the labels; copies it whole to a directory', () => {
    const info = JSON.parse(output('skopeo', ['inspect', `oci-archive:${final}`]));
    const index = JSON.parse(member('index.json').toString());
    expect(info).toMatchObject({ Digest: index.manifests[0].digest, Architecture: 'amd64', Os: 'linux', Created: '2023-11-14T22:13:20Z' });
    expect(info.Layers).toHaveLength(1);
    expect(info.Labels['org.opencontainers.image.title']).toBe('img');
    const dir = path.join(work, 'copied');
    output('skopeo', ['copy', '--quiet', `oci-archive:${final}`, `dir:${dir}`]);
    const layerFile = path.join(dir, info.Layers[0].slice(7));
    expect(`sha256:${sha256(fs.readFileSync(layerFile))}`).toBe(info.Layers[0]);
    const listed = output('tar', ['--numeric-owner', '-tvzf', layerFile]);
    expect(listed).toMatch(new RegExp(`^-rw-r----- ${process.getuid?.()}/${process.getgid?.()} +1 .* \\./etc/owned$`, 'm'));
    expect(listed).toMatch(/^drwxr-xr-x 0\/0 .* \.\/proc\/$/m);
    expect(listed).not.toContain('proc/1');
  });

  test('a write that fails half-way leaves neither its scratch directory nor a layout behind', async () => {
    const dest = path.join(out, '.bad.oci.tar.kiln-part-c');
    const bad = { ...request(dest, 'oci', path.join(out, 'bad.oci.tar')), build: { flavours: [], arch: 'mips' } };
    await expect(writeFormat('oci', bad, { label: 'oci' })).rejects.toThrow('architecture "mips": kiln knows no OCI platform for it');
    fs.rmSync(dest);
    expect(fs.readdirSync(out).sort()).toEqual(['img.oci.tar', 'img.tar']);
  });

  test('the same tree again, under another temporary name a second later: the same bytes', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const again = path.join(out, '.again.kiln-part-b');
    await writeFormat('oci', request(again, 'oci'), { label: 'oci' });
    expect(sha256(fs.readFileSync(again))).toBe(sha256(archive));
    fs.rmSync(again);
  });
});
