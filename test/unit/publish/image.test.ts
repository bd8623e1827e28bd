import fs from 'node:fs';
import path from 'node:path';
import { buildProperties, classifyRaw, defaultImageName, glanceArch, glanceDiskFormat, imageRecord, parseProperties, parseRate, readSidecar } from '../../../lib/publish/image.js';
import { progressPrinter, withoutPublishArgs } from '../../../lib/cli/commands/publish.js';
import { tempDir } from '../../helpers/tmp.js';

describe('properties from the build', () => {
  const dir = tempDir('unit-pub');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('NAME.manifest.json beside NAME.qcow2 gives distro, version, architecture, firmware, build id and digest', () => {
    const m = { manifest: 'kiln-packages/1', build: { id: '0b9f…', kiln: '0.1.0', flavours: ['debian', 'vm', 'efi'], arch: 'amd64', layout: 'efi' }, os: { id: 'debian', versionId: '12' } };
    fs.writeFileSync(path.join(dir, 'img.manifest.json'), JSON.stringify(m));
    const side = readSidecar(path.join(dir, 'img.qcow2'));
    expect(side?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(buildProperties(side)).toEqual({
      hw_disk_bus: 'virtio',
      os_distro: 'debian',
      os_version: '12',
      architecture: 'x86_64',
      hw_firmware_type: 'uefi',
      kiln_build_id: '0b9f…',
      kiln_flavours: 'debian vm efi',
      kiln_version: '0.1.0',
      kiln_manifest_sha256: side?.sha256,
    });
  });

  test('a BIOS image gets no hw_firmware_type; no manifest: only the disk bus', () => {
    fs.writeFileSync(path.join(dir, 'bios.manifest.json'), JSON.stringify({ build: { arch: 'arm64', layout: 'mbr' }, os: { id: 'debian' } }));
    const p = buildProperties(readSidecar(path.join(dir, 'bios.raw')));
    expect(p.hw_firmware_type).toBeUndefined();
    expect(p.architecture).toBe('aarch64');
    expect(readSidecar(path.join(dir, 'none.qcow2'))).toBeUndefined();
    expect(buildProperties(undefined)).toEqual({ hw_disk_bus: 'virtio' });
  });

  test.each([
    [['cloud-init', 'qemu-guest-agent'], 'debian', { hw_qemu_guest_agent: 'yes', os_admin_user: 'debian' }],
    [['cloud-init'], 'debian', { os_admin_user: 'debian' }],
    [['openssh-server'], 'debian', {}],
    [['qemu-guest-agent'], 'debian', { hw_qemu_guest_agent: 'yes' }],
    [['cloud-init'], 'ubuntu', { os_admin_user: 'ubuntu' }],
    [['cloud-init'], 'plan9', {}],
  ])('packages %j on %s: %j', (names, id, expected) => {
    fs.writeFileSync(path.join(dir, 'pk.manifest.json'), JSON.stringify({ os: { id }, packages: names.map((name) => ({ name, version: '1' })) }));
    const p = buildProperties(readSidecar(path.join(dir, 'pk.qcow2')));
    expect({ hw_qemu_guest_agent: p.hw_qemu_guest_agent, os_admin_user: p.os_admin_user }).toEqual({ hw_qemu_guest_agent: undefined, os_admin_user: undefined, ...expected });
  });

  test('a manifest that is not JSON is bad input naming the file', () => {
    fs.writeFileSync(path.join(dir, 'bad.manifest.json'), '{');
    expect(() => readSidecar(path.join(dir, 'bad.vhd'))).toThrow(`${dir}/bad.manifest.json: not JSON`);
  });
});

test('formats, architectures, names', () => {
  expect(glanceDiskFormat('vpc')).toBe('vhd');
  expect(glanceDiskFormat('qcow2')).toBe('qcow2');
  expect(glanceArch('ppc64el')).toBe('ppc64le');
  expect(glanceArch('mips64el')).toBe('mips64el');
  expect(defaultImageName('/out/debian-12.qcow2')).toBe('debian-12');
  expect(defaultImageName('disk.img')).toBe('disk');
});

test('--property: KEY=VALUE, values may hold "="; keys Glance or kiln own are refused', () => {
  expect(parseProperties(['hw_qemu_guest_agent=yes', 'note=a=b', 'empty='])).toEqual({ hw_qemu_guest_agent: 'yes', note: 'a=b', empty: '' });
  expect(() => parseProperties(['novalue'])).toThrow('--property novalue: expected KEY=VALUE');
  expect(() => parseProperties(['=x'])).toThrow('expected KEY=VALUE');
  expect(() => parseProperties(['name=x'])).toThrow('--property name: not settable as a property (use --name)');
  expect(() => parseProperties(['disk_format=raw'])).toThrow('kiln reads the format from the file');
  expect(() => parseProperties(['checksum=x'])).toThrow('--property checksum: Glance (or kiln) sets this itself');
  expect(() => parseProperties(['bad key=x'])).toThrow('"bad key" is not a valid property name');
});

test('the record: properties, bare container, min_disk in GiB (at least 1), hidden while it replaces, the upload owner', () => {
  expect(imageRecord({ name: 'n', diskFormat: 'qcow2', virtualSize: 2 * 2 ** 30 + 1, visibility: 'private', properties: { os_distro: 'debian' }, hidden: true, uploadOwner: 'h/1/2' })).toEqual({
    os_distro: 'debian',
    name: 'n',
    disk_format: 'qcow2',
    container_format: 'bare',
    visibility: 'private',
    min_disk: 3,
    os_hidden: true,
    kiln_upload: 'h/1/2',
  });
  expect(imageRecord({ name: 'n', diskFormat: 'raw', virtualSize: 0, visibility: 'public', properties: {}, hidden: false, uploadOwner: 'x' })).not.toHaveProperty('os_hidden');
});

test('--limit-rate', () => {
  expect(parseRate('500K')).toBe(500 * 1024);
  expect(parseRate('20M')).toBe(20 * 2 ** 20);
  expect(parseRate('1.5G')).toBe(1.5 * 2 ** 30);
  expect(parseRate('4096')).toBe(4096);
  expect(parseRate('20MiB/s')).toBe(20 * 2 ** 20);
  expect(() => parseRate('fast')).toThrow('--limit-rate fast: expected bytes per second');
  expect(() => parseRate('10')).toThrow('at least 1K per second');
});

test('raw files: a disk, installer media, or not an image', () => {
  const mbr = Buffer.alloc(0x8006);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  expect(classifyRaw(mbr)).toBe('raw');
  const ext = Buffer.alloc(0x8006);
  ext.writeUInt16LE(0xef53, 1080);
  expect(classifyRaw(ext)).toBe('raw');
  const iso = Buffer.alloc(0x8006);
  iso.write('CD001', 0x8001, 'latin1');
  expect(classifyRaw(iso)).toBe('iso');
  expect(classifyRaw(Buffer.from('ustar tarball'.padEnd(0x8006, '\0')))).toBeUndefined();
});

test('the privileged re-run gets the build arguments without the publishing ones (no credentials cross)', () => {
  expect(withoutPublishArgs(['-o', 'img', '--publish', '--os-cloud', 'prod', '--token=abc', '--property', 'a=b', '--replace', '--publish-name', 'n', '--limit-rate', '5M', '--wait', '9', '--visibility=public', '--delete-old', '--glance-endpoint', 'http://g', 'vm'])).toEqual(['-o', 'img', 'vm']);
  expect(withoutPublishArgs(['vm', '--', '--publish'])).toEqual(['vm', '--', '--publish']);
});

test('progress without a terminal: a line at every 10 % and at the end', () => {
  const lines: string[] = [];
  const out = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const p = progressPrinter(out);
  for (let sent = 0; sent <= 100; sent += 5) p(sent * 2 ** 20, 100 * 2 ** 20, false);
  p(100 * 2 ** 20, 100 * 2 ** 20, true);
  expect(lines.length).toBe(12);
  expect(lines[3]).toMatch(/^kiln: uploading 30\.0 \/ 100\.0 MiB \(30 %, [\d.]+ MiB\/s\)\n$/);
});
