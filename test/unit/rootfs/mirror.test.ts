import { baseKey, sourceLines } from '../../../lib/rootfs/base.js';
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
    for (const change of [{ release: 'trixie' }, { arch: 'arm64' }, { mirror: 'http://other/' }, { include: ['a'] }, { variant: 'buildd' }, { security: undefined }]) {
      expect(baseKey({ ...spec, ...change })).not.toBe(k);
    }
  });

  test('source lines include updates and security; sid has neither', () => {
    expect(sourceLines(spec)).toEqual(['deb http://m/debian bookworm main', 'deb http://m/debian bookworm-updates main', 'deb http://s/ bookworm-security main']);
    expect(sourceLines({ ...spec, release: 'sid' })).toEqual(['deb http://m/debian sid main']);
  });
});
