import fs from 'node:fs';
import path from 'node:path';
import { discoverFlavours, parseList, searchPaths } from '../../../lib/flavours/discover.js';
import { makeTree, removeTree } from '../helpers/fixtures.js';

const roots: string[] = [];
afterAll(() => roots.forEach(removeTree));

describe('searchPaths and discoverFlavours', () => {
  test('an earlier ELEMENTS_PATH entry overrides a later one; kiln\'s own flavours come last', () => {
    const { root, dirs } = makeTree({
      first: { shared: { readme: '# from first' } },
      second: { shared: { readme: '# from second' }, only2: {} },
      builtin: { shared: { readme: '# from builtin' }, vm: { readme: 'vm\n==\n' } },
    });
    roots.push(root);
    const paths = searchPaths(`${dirs.first}:${dirs.second}`, dirs.builtin);
    expect(paths).toEqual([dirs.first, dirs.second, dirs.builtin]);
    const index = discoverFlavours(paths);
    expect(index.get('shared')?.summary).toBe('from first');
    expect(index.get('shared')?.overrides).toEqual([path.join(dirs.second!, 'shared'), path.join(dirs.builtin!, 'shared')]);
    expect(index.get('only2')?.searchPath).toBe(dirs.second);
    expect(index.get('vm')?.summary).toBe('vm');
  });

  test('kiln\'s own flavour beats the same name in diskimage-builder\'s elements directory, not in a user\'s', () => {
    const { root, dirs } = makeTree({
      mine: { 'debian-minimal': { readme: '# my own debian-minimal' } },
      dib: { vm: { readme: '# dib vm' }, 'debian-minimal': { readme: '# dib debian-minimal' }, 'package-installs': { readme: '# dib pi' }, growroot: { readme: '# dib growroot' } },
      builtin: { vm: { readme: '# kiln vm' }, 'debian-minimal': { readme: '# kiln dm' }, 'package-installs': { readme: '# kiln pi' } },
    });
    roots.push(root);
    fs.mkdirSync(path.join(dirs.dib!, 'package-installs', 'bin'));
    fs.writeFileSync(path.join(dirs.dib!, 'package-installs', 'bin', 'package-installs-v2'), '');
    const index = discoverFlavours(searchPaths(`${dirs.mine}:${dirs.dib}`, dirs.builtin), dirs.builtin);
    expect(index.get('vm')?.summary).toBe('kiln vm');
    expect(index.get('vm')?.overrides).toEqual([path.join(dirs.dib!, 'vm')]);
    expect(index.get('package-installs')?.summary).toBe('kiln pi');
    expect(index.get('growroot')?.summary).toBe('dib growroot');
    expect(index.get('debian-minimal')?.summary).toBe('my own debian-minimal');
    // Without the marker, the directory is anybody's: its flavours win as usual.
    fs.rmSync(path.join(dirs.dib!, 'package-installs', 'bin'), { recursive: true });
    expect(discoverFlavours(searchPaths(dirs.dib, dirs.builtin), dirs.builtin).get('vm')?.summary).toBe('dib vm');
  });

  test.each([
    ['a missing directory', (root: string) => path.join(root, 'missing')],
    ['a file', (root: string) => { const f = path.join(root, 'file'); fs.writeFileSync(f, ''); return f; }],
  ])('an ELEMENTS_PATH entry that is %s is invalid, named', (_what, make) => {
    const { root } = makeTree({});
    roots.push(root);
    const entry = make(root);
    expect(() => searchPaths(`${root}:${entry}`)).toThrow(`ELEMENTS_PATH entry "${entry}" is not a directory`);
  });

  test('empty ELEMENTS_PATH entries are ignored', () => {
    expect(searchPaths('::', '/builtin')).toEqual(['/builtin']);
  });

  test.each([
    ['a\nb\n', ['a', 'b']],
    ['  a  \n\n# comment\nb # trailing\n', ['a', 'b']],
    ['', []],
  ])('element-deps %j parses to %j', (text, expected) => {
    expect(parseList(text)).toEqual(expected);
  });
});
