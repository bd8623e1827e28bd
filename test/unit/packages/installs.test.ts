import { applies, batchPackages, conditionHolds, parsePackageInstalls } from '../../../lib/packages/installs.js';

const parse = (yaml: string) => parsePackageInstalls(yaml, 'package-installs.yaml', 'fx');

describe('package-installs.yaml', () => {
  test('bare names install in install.d', () => {
    expect(parse('a:\nb:\n').map((e) => [e.name, e.phase, e.uninstall])).toEqual([
      ['a', 'install.d', false],
      ['b', 'install.d', false],
    ]);
  });

  test.each([
    ['DIB_X = yes', { DIB_X: 'yes' }, true],
    ['DIB_X = yes', { DIB_X: 'no' }, false],
    ['DIB_X != yes', {}, true],
    ['DIB_X=', {}, true],
    ['DIB_X != efi', { DIB_X: 'efi' }, false],
  ])('condition %j with %j holds: %s', (cond, env, expected) => {
    expect(conditionHolds(cond, env)).toBe(expected);
  });

  test('a condition that cannot be read is invalid', () => {
    expect(() => conditionHolds('nonsense', {})).toThrow('cannot read condition "nonsense"');
  });

  test('batches per phase with arch, not-arch, when, uninstall and build-only', () => {
    const entries = parse(`
kernel-amd64: {arch: amd64}
kernel-arm64: {arch: "arm64, armhf"}
everywhere-but-i386: {not-arch: i386}
early: {phase: pre-install.d}
gone: {uninstall: true, phase: post-install.d}
tool: {build-only: true}
efi-only: {when: DIB_BLOCK_DEVICE = efi}
both: {when: [DIB_A = 1, DIB_B != 2]}
`);
    expect(batchPackages(entries, 'amd64', { DIB_BLOCK_DEVICE: 'mbr', DIB_A: '1' })).toEqual({
      'pre-install.d': { install: ['early'], uninstall: [] },
      'install.d': { install: ['kernel-amd64', 'everywhere-but-i386', 'tool', 'both'], uninstall: [] },
      'post-install.d': { install: [], uninstall: ['gone', 'tool'] },
    });
  });

  test('a list of entries for one package applies each', () => {
    const e = parse('p:\n  - {arch: amd64}\n  - {arch: arm64, phase: pre-install.d}\n');
    expect(e.filter((x) => applies(x, 'arm64', {})).map((x) => x.phase)).toEqual(['pre-install.d']);
  });

  test('JSON works too', () => {
    expect(parsePackageInstalls('{"a": null, "b": {"uninstall": true}}', 'x.json', 'fx').map((e) => e.uninstall)).toEqual([false, true]);
  });

  test.each([
    ['a: {phase: install}\n', /\[fx\] package-installs.yaml: a: phase "install" is not one of/],
    ['a: {bogus: 1}\n', /\[fx\] package-installs.yaml: a: unknown key "bogus"/],
    ['- a\n- b\n', /expected a map of package names/],
    ['a: [\n', /\[fx\] package-installs.yaml:2:1: /],
  ])('%j is invalid, naming the flavour and file', (yaml, message) => {
    expect(() => parse(yaml)).toThrow(message);
  });
});
