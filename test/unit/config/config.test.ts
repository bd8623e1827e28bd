import fs from 'node:fs';
import path from 'node:path';
import { resolveConfig } from '../../../lib/config/config.js';
import { parseSize } from '../../../lib/config/parse.js';
import { outputPaths } from '../../../lib/output/formats.js';
import { tempDir } from '../../helpers/tmp.js';

const none = new Map<string, string | boolean | string[]>();

describe('resolveConfig', () => {
  test('defaults', () => {
    const c = resolveConfig(none, {});
    expect(c.settings.types).toEqual(['qcow2']);
    expect(c.settings.release).toBe('trixie');
    // kiln's default operating system, chosen by the kind of build (defaultOperatingSystem).
    expect(c.settings.defaultOs).toBeUndefined();
    expect(c.settings.tmpfs).toBe(true);
    expect(Object.isFrozen(c.settings)).toBe(true);
  });

  test('flag beats --env-file beats environment beats default', () => {
    const dir = tempDir('env');
    const file = path.join(dir, 'build.env');
    fs.writeFileSync(file, 'DIB_RELEASE=trixie\nDIB_OFFLINE=1\nMY_VAR="hello world"\n');
    const env = { DIB_RELEASE: 'bullseye', DIB_IMAGE_SIZE: '3', DIB_OFFLINE: '0' };
    const fromFile = resolveConfig(none, env, file);
    expect(fromFile.settings.release).toBe('trixie');
    expect(fromFile.settings.offline).toBe(true);
    expect(fromFile.settings.imageSize).toBe(3 * 2 ** 30);
    expect(fromFile.env.MY_VAR).toBe('hello world');
    const fromFlag = resolveConfig(new Map([['release', 'sid']]), env, file);
    expect(fromFlag.settings.release).toBe('sid');
    fs.rmSync(dir, { recursive: true });
  });

  test.each([
    [new Map([['types', 'qcow2,tar,qcow2']]), {}, 'types', ['qcow2', 'tar']],
    [new Map([['tmpfs', false]]), {}, 'tmpfs', false],
    [none, { DIB_NO_TMPFS: '1' }, 'tmpfs', false],
    [new Map([['trace', true]]), {}, 'trace', true],
    [none, { DIB_DEBUG_TRACE: '1' }, 'trace', true],
    [none, { DIB_DEBUG_TRACE: '0' }, 'trace', false],
    [new Map([['packages', ['a,b', 'c']]]), {}, 'packages', ['a', 'b', 'c']],
    [new Map([['defaultOs', 'none']]), {}, 'defaultOs', null],
    [none, { KILN_DEFAULT_OS: 'busybox' }, 'defaultOs', 'busybox'],
    [new Map([['arch', 'x86_64']]), {}, 'arch', 'amd64'],
    [none, { DIB_BLOCK_DEVICE: 'efi' }, 'blockDevice', 'efi'],
  ])('%p with env %p sets %s to %p', (cli, env, key, expected) => {
    const c = resolveConfig(cli as Map<string, string | boolean | string[]>, env as NodeJS.ProcessEnv);
    expect(c.settings[key as keyof typeof c.settings]).toEqual(expected);
  });

  test.each([
    [new Map([['types', 'qcow2,floppy']]), {}, '--type: unknown output format "floppy"'],
    [new Map([['imageSize', 'banana']]), {}, '--image-size: "banana" is not a size'],
    [none, { DIB_IMAGE_SIZE: 'big' }, 'DIB_IMAGE_SIZE: "big" is not a size'],
    [none, { DIB_OFFLINE: 'maybe' }, 'DIB_OFFLINE: "maybe" is not a boolean'],
    [new Map([['arch', 'z80']]), {}, '--arch: unknown architecture "z80"'],
    [new Map([['blockDevice', 'gpt']]), {}, '--block-device: "gpt" is not one of mbr, efi'],
  ])('%p with env %p is invalid: %s', (cli, env, message) => {
    expect(() => resolveConfig(cli as Map<string, string>, env as NodeJS.ProcessEnv)).toThrow(message);
  });

  test('an unreadable --env-file is invalid, named', () => {
    expect(() => resolveConfig(none, {}, '/nonexistent/kiln.env')).toThrow('--env-file /nonexistent/kiln.env: cannot read it (ENOENT)');
  });
});

describe('parseSize', () => {
  test.each([
    ['2', 2 * 2 ** 30],
    ['2.5', 2.5 * 2 ** 30],
    ['512M', 512 * 2 ** 20],
    ['512MiB', 512 * 2 ** 20],
    ['3G', 3 * 2 ** 30],
    ['1t', 2 ** 40],
  ])('%s is %d bytes', (raw, bytes) => {
    expect(parseSize(raw, 'x')).toBe(bytes);
  });
  test.each(['banana', '-1', '2X', '', '1K'])('%j is refused', (raw) => {
    expect(() => parseSize(raw, 'x')).toThrow();
  });
});

describe('outputPaths', () => {
  test.each([
    ['img', ['qcow2'], ['img.qcow2']],
    ['img.qcow2', ['qcow2'], ['img.qcow2']],
    ['img', ['raw', 'tar', 'squashfs', 'tgz'], ['img.raw', 'img.tar', 'img.squash', 'img.tgz']],
    ['img', ['tar', 'oci'], ['img.tar', 'img.oci.tar']],
    ['img.oci.tar', ['oci'], ['img.oci.tar']],
  ] as const)('-o %s -t %j writes %j', (name, formats, expected) => {
    expect(outputPaths(name, formats).map((o) => o.path)).toEqual(expected);
  });
});
