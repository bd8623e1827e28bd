/** The metadata drive: its files from the options (a table), bad input (exit 2, naming the file), and a real ISO. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadSeedInput, parseMetadata, readPublicKey, seedFiles, writeSeedIso, type SeedInput } from '../../../lib/boot/seed.js';
import { qemuArgv } from '../../../lib/boot/argv.js';
import { command, testIf } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';
import { thrown } from '../helpers/errors.js';

const dir = tempDir('unit-seed');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake me@host';
const OTHER = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC other@host';

const input = (kind: SeedInput['kind'], metadata: Record<string, unknown>, publicKeys: string[] = [KEY], userData?: string): SeedInput => ({
  kind,
  metadata,
  publicKeys,
  ...(userData !== undefined ? { userData: Buffer.from(userData) } : {}),
});
const json = (s: string | Buffer | undefined) => JSON.parse(String(s));

describe('seedFiles', () => {
  test('config drive: meta_data.json with the metadata, a made-up uuid and hostname, the key added', () => {
    const img = seedFiles(input('config-drive', { meta: { role: 'web' } }), '0123abcd-0000-4000-8000-000000000000');
    expect(img.label).toBe('config-2');
    expect(Object.keys(img.files)).toEqual(['openstack/latest/meta_data.json']);
    expect(json(img.files['openstack/latest/meta_data.json'])).toEqual({
      meta: { role: 'web' },
      uuid: '0123abcd-0000-4000-8000-000000000000',
      hostname: 'kiln-0123abcd',
      name: 'kiln-0123abcd',
      public_keys: { kiln: KEY },
      launch_index: 0,
    });
  });

  test("config drive: the metadata's uuid, hostname and keys win; a key already there is not repeated; user_data as given", () => {
    const img = seedFiles(input('config-drive', { uuid: 'u-1', hostname: 'web-1', public_keys: { mine: KEY, kiln: OTHER } }, [KEY, OTHER], '#cloud-config\n'));
    const md = json(img.files['openstack/latest/meta_data.json']);
    expect(md).toMatchObject({ uuid: 'u-1', hostname: 'web-1', name: 'web-1', public_keys: { mine: KEY, kiln: OTHER } });
    expect(String(img.files['openstack/latest/user_data'])).toBe('#cloud-config\n');
  });

  test('NoCloud: label cidata, meta-data in NoCloud\'s names, user-data always present', () => {
    const img = seedFiles(input('nocloud', { uuid: 'u-2', hostname: 'db-1', public_keys: { a: OTHER }, extra: 1 }));
    expect(img.label).toBe('cidata');
    expect(json(img.files['meta-data'])).toEqual({ extra: 1, 'instance-id': 'u-2', 'local-hostname': 'db-1', 'public-keys': [OTHER, KEY] });
    expect(img.files['user-data']).toBe('');
  });

  test('each boot without a uuid is a new instance', () => {
    const a = json(seedFiles(input('config-drive', {})).files['openstack/latest/meta_data.json']);
    const b = json(seedFiles(input('config-drive', {})).files['openstack/latest/meta_data.json']);
    expect(a.uuid).not.toBe(b.uuid);
  });
});

describe('bad input: exit 2, naming the flag and the file', () => {
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  test.each([
    ['{"uuid": ', /--metadata: ".*bad.json" is not valid JSON/],
    ['[1, 2]', /--metadata: ".*bad.json" must hold a JSON object/],
    ['{"hostname": 7}', /"hostname" must be a non-empty string/],
    ['{"public_keys": ["ssh-ed25519 AAAA"]}', /"public_keys" must be an object/],
    ['{"public_keys": {"a": 1}}', /"public_keys" must be an object/],
  ])('%s', (text, message) => {
    const f = write('bad.json', text);
    const e = thrown(() => parseMetadata(text, f));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(message);
  });

  test('unreadable files', () => {
    const missing = path.join(dir, 'missing.json');
    expect(thrown(() => loadSeedInput({ kind: 'config-drive', metadataFile: missing }, [])).message).toBe(`--metadata: cannot read "${missing}" (no such file)`);
    expect(thrown(() => loadSeedInput({ kind: 'nocloud', userDataFile: dir }, [])).message).toBe(`--user-data: cannot read "${dir}" (a directory)`);
    const e = thrown(() => readPublicKey(path.join(dir, 'id_nokey')));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--ssh-key: no public key ".*id_nokey.pub"/);
  });
});

test('QEMU attaches the drive read-only as a CD-ROM', () => {
  const argv = qemuArgv({ accel: 'tcg', memoryMb: 1024, cpus: 2, disks: [], diskInterface: 'virtio', persist: false, sshPort: 1, cdrom: '/t/seed,1.iso' });
  expect(argv).toContain('file=/t/seed,,1.iso,format=raw,media=cdrom,readonly=on');
});

testIf(command('genisoimage'), command('isoinfo', 'genisoimage'))('writeSeedIso: an ISO 9660 image with the label and the files', async () => {
  const img = seedFiles(input('config-drive', { hostname: 'iso-test' }, [KEY], 'hello'));
  const iso = path.join(dir, 'seed.iso');
  await writeSeedIso(img, path.join(dir, 'stage'), iso);
  expect(spawnSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' }).stdout).toMatch(/^Volume id: config-2$/m);
  const read = (p: string) => spawnSync('isoinfo', ['-R', '-i', iso, '-x', `/${p}`], { encoding: 'utf8' }).stdout;
  expect(JSON.parse(read('openstack/latest/meta_data.json')).hostname).toBe('iso-test');
  expect(read('openstack/latest/user_data')).toBe('hello');
});
