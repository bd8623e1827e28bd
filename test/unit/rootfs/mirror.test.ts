import fs from 'node:fs';
import path from 'node:path';
import { baseKey, configureTreeApt, deb822Sources, removeBuildAptConf, sourceLines, VALID_UNTIL_CONF } from '../../../lib/rootfs/base.js';
import { tempDir } from '../../helpers/tmp.js';
import { parseDeb822, parseSourcesList, pickMirrors } from '../../../lib/rootfs/mirror.js';

const DEB822 = `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/
Suites: bookworm
Components: main
`;

describe('apt sources', () => {
  test('deb822: main and security archives', () => {
    const sources = parseDeb822(DEB822);
    expect(sources).toHaveLength(2);
    expect(pickMirrors(sources)).toEqual({ mirror: 'http://mirror.example/debian', security: 'http://security.example/debian-security' });
  });

  test('one-line sources.list, options and comments', () => {
    const text = '# comment\ndeb-src http://src.example/ bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib\ndeb http://sec.example/ bookworm-security main\n';
    expect(pickMirrors(parseSourcesList(text))).toEqual({ mirror: 'http://one.example/debian', security: 'http://sec.example/' });
  });

  test('no sources: nothing picked', () => {
    expect(pickMirrors([])).toEqual({});
  });
});

describe('base tree', () => {
  const spec = { family: 'apt' as const, variant: 'minbase', components: ['main'], include: ['a', 'b'], release: 'bookworm', arch: 'amd64', mirror: 'http://m/debian', security: 'http://s/' };

  test('the key changes with everything that shapes the tree, and not with list order', () => {
    const k = baseKey(spec);
    expect(baseKey({ ...spec, include: ['b', 'a'] })).toBe(k);
    expect(baseKey({ ...spec, ignoreValidUntil: false })).toBe(k);
    for (const change of [{ release: 'trixie' }, { arch: 'arm64' }, { mirror: 'http://other/' }, { include: ['a'] }, { variant: 'buildd' }, { security: undefined }, { ignoreValidUntil: true }]) {
      expect(baseKey({ ...spec, ...change })).not.toBe(k);
    }
  });

  test('source lines include updates and security; sid has neither', () => {
    expect(sourceLines(spec)).toEqual(['deb http://m/debian bookworm main', 'deb http://m/debian bookworm-updates main', 'deb http://s/ bookworm-security main']);
    expect(sourceLines({ ...spec, release: 'sid' })).toEqual(['deb http://m/debian sid main']);
    expect(sourceLines({ ...spec, release: 'trixie', security: undefined })).toEqual(['deb http://m/debian trixie main', 'deb http://m/debian trixie-updates main']);
  });

  test('deb822 sources (trixie on): one stanza per archive, signed by the keyring when given', () => {
    expect(deb822Sources({ ...spec, release: 'trixie', components: ['main', 'contrib'] }, '/usr/share/keyrings/debian-archive-keyring.pgp')).toBe(
      'Types: deb\nURIs: http://m/debian\nSuites: trixie trixie-updates\nComponents: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.pgp\n\n' +
        'Types: deb\nURIs: http://s/\nSuites: trixie-security\nComponents: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.pgp\n',
    );
    expect(deb822Sources({ ...spec, release: 'sid' }, undefined)).toBe('Types: deb\nURIs: http://m/debian\nSuites: sid\nComponents: main\n');
  });

  test.each([
    ['bookworm', false, '/etc/apt/sources.list', 'deb http://m/debian bookworm main\ndeb http://m/debian bookworm-updates main\ndeb http://s/ bookworm-security main\n'],
    ['trixie', false, '/etc/apt/sources.list.d/debian.sources', 'Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp'],
    ['sid', true, '/etc/apt/sources.list.d/debian.sources', 'Suites: sid\n'],
  ])('an unpacked %s tree gets its apt configuration (expired: %s)', (release, expired, file, text) => {
    const root = tempDir('tree-apt');
    fs.mkdirSync(path.join(root, 'etc/apt/sources.list.d'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc/apt/apt.conf.d'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr/share/keyrings'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/share/keyrings/debian-archive-keyring.pgp'), '');
    fs.writeFileSync(path.join(root, 'etc/apt/sources.list'), 'deb http://m/debian x main\n');
    configureTreeApt(root, { ...spec, release, ignoreValidUntil: expired });
    expect(fs.readFileSync(path.join(root, file), 'utf8')).toContain(text);
    expect(fs.existsSync(path.join(root, 'etc/apt/sources.list'))).toBe(file === '/etc/apt/sources.list');
    expect(fs.existsSync(path.join(root, VALID_UNTIL_CONF))).toBe(expired);
    if (expired) expect(fs.readFileSync(path.join(root, VALID_UNTIL_CONF), 'utf8')).toMatch(/^Acquire::Check-Valid-Until "false";$/m);
    removeBuildAptConf(root);
    expect(fs.existsSync(path.join(root, VALID_UNTIL_CONF))).toBe(false);
  });
});
