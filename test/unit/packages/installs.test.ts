import { KilnError } from '../../../lib/errors/index.js';
import { thrown } from '../helpers/errors.js';
import { applies, batchPackages, parseCondition, parsePackageInstalls, phaseSteps, whenHolds, type PhasePackages } from '../../../lib/packages/installs.js';

const parse = (yaml: string, flavour = 'fx') => parsePackageInstalls(yaml, 'package-installs.yaml', flavour);

describe('package-installs.yaml', () => {
  test('bare names install in install.d', () => {
    expect(parse('a:\nb:\n').map((e) => [e.name, e.phase, e.uninstall, e.line])).toEqual([
      ['a', 'install.d', false, 1],
      ['b', 'install.d', false, 2],
    ]);
  });

  test('an empty value of any kind is one entry with no options, as diskimage-builder reads it', () => {
    expect(parse('a: ""\nb: []\nc: {}\nd: false\n').map((e) => [e.name, e.phase, e.uninstall, e.buildOnly])).toEqual([
      ['a', 'install.d', false, false],
      ['b', 'install.d', false, false],
      ['c', 'install.d', false, false],
      ['d', 'install.d', false, false],
    ]);
  });

  test.each([
    ['DIB_X = yes', { variable: 'DIB_X', op: '=', value: 'yes' }],
    ['DIB_X=yes', { variable: 'DIB_X', op: '=', value: 'yes' }],
    ['DIB_X!=yes', { variable: 'DIB_X', op: '!=', value: 'yes' }],
    ['DIB_X  !=   two words', { variable: 'DIB_X', op: '!=', value: 'two words' }],
    ['DIB_X=', { variable: 'DIB_X', op: '=', value: '' }],
    ['DIB_X = a = b', { variable: 'DIB_X', op: '=', value: 'a = b' }],
    ['DIB_X == 1', { variable: 'DIB_X', op: '=', value: '= 1' }],
  ])('the condition %j reads as %j', (text, expected) => {
    expect(parseCondition(text)).toEqual({ text, ...expected });
  });

  test.each(['nonsense', ' DIB_X = 1', 'DIB-X = 1', '= 1'])('%j is no condition', (text) => {
    expect(parseCondition(text)).toBeUndefined();
  });

  const entry = (when: string) => parse(`p:\n  when: ${JSON.stringify(when)}\n`)[0]!;

  test.each([
    ['DIB_X = yes', { DIB_X: 'yes' }, true],
    ['DIB_X = yes', { DIB_X: 'no' }, false],
    ['DIB_X != yes', { DIB_X: '' }, true],
    ['DIB_X=', { DIB_X: '' }, true],
    ['DIB_X != efi', { DIB_X: 'efi' }, false],
  ])('when %j with %j holds: %s', (cond, env, expected) => {
    expect(whenHolds(entry(cond), env)).toBe(expected);
  });

  test('a when on a variable that is not set is invalid input naming the flavour, file, line and variable', () => {
    const e = thrown(() => whenHolds(parse('a:\nb:\n  phase: install.d\n  when: DIB_NOT_SET != 1\n')[1]!, {}));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('[fx] package-installs.yaml:2: b: when "DIB_NOT_SET != 1": the variable DIB_NOT_SET is not set');
  });

  test('every statement of a when list is evaluated: an unset variable is an error even after a false one', () => {
    const e = parse('p:\n  when: [DIB_A = 1, DIB_UNSET = 1]\n')[0]!;
    expect(() => whenHolds(e, { DIB_A: '0' })).toThrow(/the variable DIB_UNSET is not set/);
    expect(whenHolds(e, { DIB_A: '0', DIB_UNSET: '1' })).toBe(false);
  });

  test('when is evaluated after arch, not-arch, installtype and dib_python_version: a filtered entry needs no variable', () => {
    const [e] = parse('p:\n  arch: arm64\n  when: DIB_UNSET = 1\n');
    expect(applies(e!, 'amd64', {})).toBe(false);
    expect(() => applies(e!, 'arm64', {})).toThrow(/DIB_UNSET is not set/);
  });

  test('an entry of a list is named by its own line', () => {
    const [, second] = parse('p:\n  - arch: amd64\n  - when: DIB_UNSET = 1\n');
    expect(() => whenHolds(second!, {})).toThrow(/^\[fx\] package-installs.yaml:3: p: when/);
  });

  test('a list of entries for one package applies each', () => {
    const e = parse('p:\n  - {arch: amd64}\n  - {arch: arm64, phase: pre-install.d}\n');
    expect(e.filter((x) => applies(x, 'arm64', {})).map((x) => x.phase)).toEqual(['pre-install.d']);
  });

  test('JSON works too', () => {
    expect(parsePackageInstalls('{"a": null, "b": {"uninstall": true}}', 'x.json', 'fx').map((e) => e.uninstall)).toEqual([false, true]);
  });

  test.each([
    ['a: {phase: install}\n', /^\[fx\] package-installs.yaml:1: a: phase "install" is not one of/],
    ['a: {bogus: 1}\n', /^\[fx\] package-installs.yaml:1: a: unknown key "bogus"/],
    ['x:\na: {arch: amd64, not-arch: i386}\n', /^\[fx\] package-installs.yaml:2: a: both arch and not-arch given/],
    ['a: {when: nonsense}\n', /^\[fx\] package-installs.yaml:1: a: when: cannot read "nonsense"/],
    ['a: {when: [DIB_A = 1, 3]}\n', /^\[fx\] package-installs.yaml:1: a: when: cannot read 3/],
    ['a: just-a-string\n', /^\[fx\] package-installs.yaml:1: a: expected no value or a map of options/],
    ['- a\n- b\n', /expected a map of package names/],
    ['a: [\n', /\[fx\] package-installs.yaml:2:1: /],
  ])('%j is invalid, naming the flavour and file', (yaml, message) => {
    const e = thrown(() => parse(yaml));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(message);
  });
});

describe('batchPackages: the install and removal lists of each phase', () => {
  test('per phase, with arch, not-arch, when, uninstall and build-only', () => {
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
    expect(batchPackages(entries, 'amd64', { DIB_BLOCK_DEVICE: 'mbr', DIB_A: '1', DIB_B: '3' })).toEqual({
      'pre-install.d': { install: ['early'], uninstall: [] },
      'install.d': { install: ['kernel-amd64', 'everywhere-but-i386', 'tool', 'both'], uninstall: ['tool'] },
      'post-install.d': { install: [], uninstall: ['gone'] },
    });
  });

  test('build-only is installed and removed in its own phase', () => {
    const entries = parse('early-tool: {build-only: true, phase: pre-install.d}\nlate-tool: {build-only: true, phase: post-install.d}\n');
    expect(batchPackages(entries, 'amd64', {})).toEqual({
      'pre-install.d': { install: ['early-tool'], uninstall: ['early-tool'] },
      'install.d': { install: [], uninstall: [] },
      'post-install.d': { install: ['late-tool'], uninstall: ['late-tool'] },
    });
  });

  test('build-only with uninstall is still build-only, as upstream', () => {
    expect(batchPackages(parse('t: {build-only: true, uninstall: true}\n'), 'amd64', {})['install.d']).toEqual({ install: ['t'], uninstall: ['t'] });
  });

  test('across flavours nothing cancels: install here and build-only there in one phase is installed, then removed', () => {
    const entries = [...parse('gcc:\n', 'keeps-it'), ...parse('gcc: {build-only: true}\n', 'builds-with-it')];
    expect(batchPackages(entries, 'amd64', {})['install.d']).toEqual({ install: ['gcc'], uninstall: ['gcc'] });
  });

  test('across flavours and phases: build-only in install.d and installed in post-install.d stays (removed at the end of install.d, installed again)', () => {
    const entries = [...parse('gcc: {phase: post-install.d}\n', 'keeps-it'), ...parse('gcc: {build-only: true}\n', 'builds-with-it')];
    const b = batchPackages(entries, 'amd64', {});
    expect(b['install.d']).toEqual({ install: ['gcc'], uninstall: ['gcc'] });
    expect(b['post-install.d']).toEqual({ install: ['gcc'], uninstall: [] });
  });

  test('a package named twice is installed once', () => {
    const entries = [...parse('curl:\n', 'a'), ...parse('curl:\n', 'b')];
    expect(batchPackages(entries, 'amd64', {})['install.d'].install).toEqual(['curl']);
  });
});

describe('phaseSteps: the package steps among the hooks of a phase', () => {
  const hooks = (...names: string[]) => names.map((name) => ({ name }));
  const show = (phase: 'pre-install.d' | 'install.d' | 'post-install.d', names: string[], pkgs: PhasePackages) =>
    phaseSteps(phase, hooks(...names), pkgs).map((s) => (s.kind === 'hooks' ? s.hooks.map((h) => h.name).join(',') : `${s.kind} ${s.packages.join(',')}`));

  const pk = { install: ['a'], uninstall: ['b'] };

  test('install.d: install at 01-package-installs, removal at 99-package-uninstalls', () => {
    expect(show('install.d', ['00-first', '01-aaa', '01-zzz', '50-middle', '99-cleanup', '99-zzz', '100-last'], pk)).toEqual([
      '00-first,01-aaa',
      'install a',
      '01-zzz,50-middle,99-cleanup',
      'uninstall b',
      '99-zzz,100-last',
    ]);
  });

  test('pre-install.d: install at 10-package-installs (repositories set up before it are there), removal at 99', () => {
    expect(show('pre-install.d', ['01-dpkg-speedups', '05-add-repo', '15-after', '99-zz'], pk)).toEqual(['01-dpkg-speedups,05-add-repo', 'install a', '15-after', 'uninstall b', '99-zz']);
  });

  test('post-install.d: removal at 95-package-uninstalls, so cleanup hooks at 96-99 run after it', () => {
    expect(show('post-install.d', ['00-early', '10-configure', '96-cleanup', '99-last'], pk)).toEqual(['00-early', 'install a', '10-configure', 'uninstall b', '96-cleanup,99-last']);
  });

  test('with no hooks, install then removal; empty lists make no step', () => {
    expect(show('install.d', [], pk)).toEqual(['install a', 'uninstall b']);
    expect(show('install.d', ['50-x'], { install: [], uninstall: [] })).toEqual(['50-x']);
    expect(show('install.d', ['50-x'], { install: [], uninstall: ['b'] })).toEqual(['50-x', 'uninstall b']);
  });

  test('a package step goes before a hook of the very same name', () => {
    expect(show('install.d', ['01-package-installs'], pk)).toEqual(['install a', '01-package-installs', 'uninstall b']);
  });
});
