import { KilnError } from '../../../lib/errors/index.js';
import { describeReason, resolveFlavours } from '../../../lib/flavours/resolve.js';
import { indexOf } from '../helpers/index.js';

const os = { provides: ['operating-system'] };
const index = indexOf({
  a: { deps: ['b'] },
  b: { deps: ['c'] },
  c: {},
  self: { deps: ['self', 'c'] },
  cyc1: { deps: ['cyc2'] },
  cyc2: { deps: ['cyc1'] },
  debian: { deps: ['debian-minimal'] },
  'debian-minimal': os,
  busybox: os,
  'other-os': os,
  'two-os': { deps: ['busybox', 'other-os'] },
  'needs-os': { deps: ['operating-system'] },
  'needs-missing': { deps: ['nowhere'] },
  'provides-x': { provides: ['x'] },
  'also-x': { provides: ['x'] },
  'not-an-os': {},
  'ramdisk-base': {},
  'my-ramdisk': { deps: ['c'] },
  'uses-ramdisk': { deps: ['ramdisk-base'] },
  'provides-ramdisk': { provides: ['ramdisk-base'] },
  'rd-with-os': { deps: ['busybox', 'rd-tool'] },
  'rd-tool': { provides: ['rd-feature'] },
  'needs-rd-feature': { deps: ['rd-feature'] },
});

const names = (r: ReturnType<typeof resolveFlavours>) => r.flavours.map((f) => f.name);
const withOs = { defaultOs: null, searchPaths: ['/flavours'] } as const;

describe('resolveFlavours', () => {
  test.each([
    ['transitive closure', ['a', 'busybox'], ['a', 'busybox', 'b', 'c']],
    ['self dependency', ['self', 'busybox'], ['self', 'busybox', 'c']],
    ['cycle', ['cyc1', 'busybox'], ['cyc1', 'busybox', 'cyc2']],
    ['virtual dependency satisfied by a provider', ['needs-os', 'busybox'], ['needs-os', 'busybox']],
    ['virtuals are never in the result', ['provides-x', 'busybox'], ['provides-x', 'busybox']],
    ['duplicates named once', ['a', 'a', 'busybox'], ['a', 'busybox', 'b', 'c']],
  ])('%s', (_what, named, expected) => {
    expect(names(resolveFlavours(index, named, withOs))).toEqual(expected);
  });

  test('records why each flavour is there', () => {
    const r = resolveFlavours(index, ['a', 'busybox'], withOs);
    expect(r.flavours).toEqual([
      { name: 'a', reason: { kind: 'named' } },
      { name: 'busybox', reason: { kind: 'named' } },
      { name: 'b', reason: { kind: 'dependency', of: 'a' } },
      { name: 'c', reason: { kind: 'dependency', of: 'b' } },
    ]);
    expect(r.provided).toEqual({ 'operating-system': 'busybox' });
  });

  test.each([
    ['unknown flavour', ['nope', 'busybox'], /unknown flavour "nope"; searched \/flavours/],
    ['unknown dependency names who needs it', ['needs-missing', 'busybox'], /unknown flavour "nowhere" \(required by "needs-missing"\)/],
    ['double provider', ['provides-x', 'also-x', 'busybox'], /"x" is provided by both "provides-x" and "also-x"/],
    ['double operating system via deps', ['two-os'], /"operating-system" is provided by both "busybox" and "other-os"/],
    ['virtual named with its provider', ['provides-x', 'x', 'busybox'], /"x" is named but is already provided by "provides-x"/],
    ['operating-system named with its provider', ['busybox', 'operating-system'], /"operating-system" is named but is already provided by "busybox"/],
    ['no operating system and --default-os none', ['a'], /no flavour provides "operating-system"/],
    ['nothing named', [], /no flavours named/],
  ])('%s is invalid input naming the culprit', (_what, named, message) => {
    let err: unknown;
    try {
      resolveFlavours(index, named, withOs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(2);
    expect((err as KilnError).message).toMatch(message);
  });

  describe('the default operating system', () => {
    test('is added when nothing named provides operating-system', () => {
      const r = resolveFlavours(index, ['a'], { defaultOs: 'debian' });
      expect(names(r)).toEqual(['a', 'debian', 'b', 'debian-minimal', 'c']);
      expect(r.defaultOsAdded).toBe('debian');
      expect(r.flavours[1]?.reason).toEqual({ kind: 'default-os', provides: 'operating-system' });
    });
    test('is not added when a named flavour provides operating-system', () => {
      const r = resolveFlavours(index, ['a', 'busybox'], { defaultOs: 'debian' });
      expect(r.defaultOsAdded).toBeUndefined();
      expect(names(r)).not.toContain('debian');
    });
    test('can be replaced', () => {
      const r = resolveFlavours(index, ['a'], { defaultOs: 'busybox' });
      expect(r.defaultOsAdded).toBe('busybox');
      expect(r.provided['operating-system']).toBe('busybox');
    });
    test('none gives diskimage-builder\'s error', () => {
      expect(() => resolveFlavours(index, ['a'], { defaultOs: null })).toThrow(/no flavour provides "operating-system"/);
    });
    test('a default that is unknown is named', () => {
      expect(() => resolveFlavours(index, ['a'], { defaultOs: 'nosuch' })).toThrow(/unknown flavour "nosuch"/);
    });
    test('a default that provides no operating system is named', () => {
      expect(() => resolveFlavours(index, ['a'], { defaultOs: 'not-an-os' })).toThrow(/"not-an-os" does not provide "operating-system"/);
    });
  });

  describe("a ramdisk build's ramdisk element (ramdisk-image-create)", () => {
    const rd = { ...withOs, ramdiskElement: 'ramdisk-base' };
    test('completes a plan that fails without it: it brings the operating system, or a virtual a named flavour requires', () => {
      const opts = { ...withOs, ramdiskElement: 'rd-with-os' };
      expect(() => resolveFlavours(index, ['c'], withOs)).toThrow(/no flavour provides "operating-system"/);
      expect(names(resolveFlavours(index, ['c'], opts))).toEqual(['c', 'rd-with-os', 'busybox', 'rd-tool']);
      expect(() => resolveFlavours(index, ['needs-rd-feature', 'busybox'], withOs)).toThrow(/unknown flavour "rd-feature"/);
      expect(names(resolveFlavours(index, ['needs-rd-feature'], opts))).toEqual(['needs-rd-feature', 'rd-with-os', 'busybox', 'rd-tool']);
    });
    test("a plan that fails without it and with it gives the plan's own error, not the element's", () => {
      expect(() => resolveFlavours(index, ['nosuch', 'busybox'], { ...withOs, ramdiskElement: 'no-such-element' })).toThrow(/unknown flavour "nosuch"/);
    });
    test('joins after the named flavours and their dependencies, saying why', () => {
      const r = resolveFlavours(index, ['a', 'busybox'], rd);
      expect(names(r)).toEqual(['a', 'busybox', 'b', 'c', 'ramdisk-base']);
      expect(r.flavours.at(-1)?.reason).toEqual({ kind: 'ramdisk-element' });
    });
    test('brings its own dependencies', () => {
      expect(names(resolveFlavours(index, ['busybox'], { ...withOs, ramdiskElement: 'my-ramdisk' }))).toEqual(['busybox', 'my-ramdisk', 'c']);
    });
    test('after the default operating system too', () => {
      const r = resolveFlavours(index, ['a'], { defaultOs: 'debian', ramdiskElement: 'ramdisk-base' });
      expect(names(r)).toEqual(['a', 'debian', 'b', 'debian-minimal', 'c', 'ramdisk-base']);
    });
    test('a plan that holds it already is unchanged: named, a dependency, or provided', () => {
      expect(resolveFlavours(index, ['ramdisk-base', 'busybox'], rd).flavours).toEqual(resolveFlavours(index, ['ramdisk-base', 'busybox'], withOs).flavours);
      const dep = resolveFlavours(index, ['uses-ramdisk', 'busybox'], rd);
      expect(dep.flavours).toEqual([
        { name: 'uses-ramdisk', reason: { kind: 'named' } },
        { name: 'busybox', reason: { kind: 'named' } },
        { name: 'ramdisk-base', reason: { kind: 'dependency', of: 'uses-ramdisk' } },
      ]);
      expect(names(resolveFlavours(index, ['provides-ramdisk', 'busybox'], rd))).toEqual(['provides-ramdisk', 'busybox']);
    });
    test('one that is not a flavour is invalid input naming it and the option', () => {
      let err: unknown;
      try {
        resolveFlavours(index, ['busybox'], { ...withOs, ramdiskElement: 'dracut-ramdisk' });
      } catch (e) {
        err = e;
      }
      expect((err as KilnError).exitCode).toBe(2);
      expect((err as KilnError).message).toBe('ramdisk element "dracut-ramdisk" (--ramdisk-element / RAMDISK_ELEMENT) is not a flavour; searched /flavours');
      expect((err as KilnError).hint).toMatch(/kiln's is ramdisk-base/);
    });
    test('describeReason says who added it', () => {
      expect(describeReason({ kind: 'ramdisk-element' })).toBe('ramdisk element, added by ramdisk-image-create (--ramdisk-element or RAMDISK_ELEMENT chooses another)');
    });
  });
});
