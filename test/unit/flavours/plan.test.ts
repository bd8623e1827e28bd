import { discoverFlavours, searchPaths } from '../../../lib/flavours/discover.js';
import { planPhases } from '../../../lib/flavours/plan.js';
import { resolveFlavours } from '../../../lib/flavours/resolve.js';
import { makeTree, removeTree } from '../helpers/fixtures.js';

const roots: string[] = [];
afterAll(() => roots.forEach(removeTree));

function plan(layout: Parameters<typeof makeTree>[0], named: string[], formats: ('tar' | 'qcow2')[] = ['qcow2']) {
  const { root, dirs } = makeTree(layout);
  roots.push(root);
  const paths = searchPaths(Object.values(dirs).join(':'), '/nonexistent');
  const index = discoverFlavours(paths);
  return planPhases(index, resolveFlavours(index, named, { defaultOs: null }), formats);
}

const os = { provides: ['operating-system'] };

describe('planPhases', () => {
  test('merges hooks of all flavours per phase in run-parts order', () => {
    const p = plan(
      {
        p: {
          one: { ...os, hooks: { 'install.d': { '10-a': 'exec', 'a-x': 'exec' }, 'root.d': { '50-root': 'exec' } } },
          two: { hooks: { 'install.d': { '9-b': 'exec', '10-A': 'exec', '02-c': 'exec' } } },
        },
      },
      ['one', 'two'],
    );
    const install = p.phases.find((ph) => ph.name === 'install.d');
    expect(install?.hooks.map((h) => `${h.name}@${h.flavour}`)).toEqual(['a-x@one', '02-c@two', '9-b@two', '10-A@two', '10-a@one']);
    expect(install?.where).toBe('chroot');
    expect(p.phases.find((ph) => ph.name === 'root.d')?.hooks.map((h) => h.where)).toEqual(['host']);
  });

  test('skips files that are not executable, contain a dot, or are directories', () => {
    const p = plan(
      { p: { one: { ...os, hooks: { 'install.d': { '10-ok': 'exec', '20-plain': 'plain', '30-dotted.sh': 'exec', '40-dir': 'dir', 'README.md': 'plain' } } } } },
      ['one'],
    );
    expect(p.phases.find((ph) => ph.name === 'install.d')?.hooks.map((h) => h.name)).toEqual(['10-ok']);
    expect(p.skipped.map((s) => [s.path.split('/').pop(), s.why])).toEqual([
      ['20-plain', 'not executable'],
      ['30-dotted.sh', 'name has a dot or other character run-parts skips'],
      ['40-dir', 'directory'],
      ['README.md', 'name has a dot or other character run-parts skips'],
    ]);
  });

  test('one hook name shipped by two flavours in a phase is an error naming both', () => {
    expect(() =>
      plan({ p: { one: { ...os, hooks: { 'install.d': { '50-x': 'exec' } } }, two: { hooks: { 'install.d': { '50-x': 'exec' } } } } }, ['one', 'two']),
    ).toThrow(/hook install.d\/50-x is shipped by both flavour "one" \(.*\) and flavour "two"/);
  });

  test('one environment.d file name shipped by two flavours is an error naming both (staged together, one would replace the other)', () => {
    expect(() =>
      plan({ p: { one: { ...os, environment: { '10-x.bash': 'export A=1\n' } }, two: { environment: { '10-x.bash': 'export A=2\n', '20-y.bash': '' } } } }, ['one', 'two']),
    ).toThrow(/environment.d\/10-x.bash is shipped by both flavour "one" \(.*\) and flavour "two"/);
    const p = plan({ p: { one: { ...os, environment: { '10-x.bash': '' } }, two: { environment: { '20-y.bash': '' } } } }, ['one', 'two']);
    expect(p.environment.map((e) => `${e.path.split('/').pop()}@${e.flavour}`)).toEqual(['10-x.bash@one', '20-y.bash@two']);
  });

  test('the same hook name in different phases is fine', () => {
    const p = plan({ p: { one: { ...os, hooks: { 'install.d': { '50-x': 'exec' } } }, two: { hooks: { 'finalise.d': { '50-x': 'exec' } } } } }, ['one', 'two']);
    expect(p.phases.filter((ph) => ph.hooks.length > 0).map((ph) => ph.name)).toEqual(['install.d', 'finalise.d']);
  });

  test('block-device phases do not run for tree outputs', () => {
    const p = plan({ p: { one: os } }, ['one'], ['tar']);
    const runs = Object.fromEntries(p.phases.map((ph) => [ph.name, ph.runs]));
    expect(runs['block-device.d']).toBe(false);
    expect(runs['block-device-size.d']).toBe(false);
    expect(runs['finalise.d']).toBe(true);
    expect(runs['cleanup.d']).toBe(true);
  });

  test('environment.d files of all flavours are sourced in run-parts order', () => {
    const p = plan({ p: { one: { ...os, environment: { '10-b.bash': 'B=1' } }, two: { environment: { '05-a': 'A=1' } } } }, ['one', 'two']);
    expect(p.environment.map((e) => `${e.path.split('/').pop()}@${e.flavour}`)).toEqual(['05-a@two', '10-b.bash@one']);
  });
});

describe('install types (install.d/<prefix>-<type>-install/)', () => {
  const layout = {
    p: {
      one: {
        ...os,
        hooks: {
          'install.d': { '10-always': 'exec', 'one-source-install': 'dir', 'one-package-install': 'dir', 'other-source-install': 'dir' },
          'install.d/one-source-install': { '50-from-source': 'exec', 'data.txt': 'plain' },
          'install.d/one-package-install': { '50-from-package': 'exec' },
          'install.d/other-source-install': { '60-other-source': 'exec' },
        },
      },
    },
  };
  function installHooks(types: Record<string, string>): string[] {
    const { root, dirs } = makeTree(layout);
    roots.push(root);
    const index = discoverFlavours(searchPaths(dirs.p, '/nonexistent'));
    const p = planPhases(index, resolveFlavours(index, ['one'], { defaultOs: null }), ['qcow2'], (prefix) => types[prefix] ?? types.default ?? 'source');
    return (p.phases.find((ph) => ph.name === 'install.d')?.hooks ?? []).map((h) => h.name);
  }
  test('the default type (source) chooses the -source-install directories', () => {
    expect(installHooks({})).toEqual(['10-always', '50-from-source', '60-other-source']);
  });
  test('a prefix\'s own type wins over the default', () => {
    expect(installHooks({ one: 'package' })).toEqual(['10-always', '50-from-package', '60-other-source']);
    expect(installHooks({ default: 'package' })).toEqual(['10-always', '50-from-package']);
  });
});
