/**
 * diskimage-builder 3.13's tests/test_elementdeps.py, case by case, on the same element tree written to disk
 * (an override directory before the elements directory, as ELEMENTS_PATH), through kiln's discovery and
 * resolver. kiln's resolver adds its default operating system when nothing provides one; these cases use
 * --default-os none, diskimage-builder's behaviour.
 */
import path from 'node:path';
import { KilnError } from '../../../lib/errors/index.js';
import { discoverFlavours, searchPaths } from '../../../lib/flavours/discover.js';
import { resolveFlavours } from '../../../lib/flavours/resolve.js';
import type { FlavourIndex } from '../../../lib/flavours/types.js';
import { makeTree, removeTree, type FlavourSpec } from '../helpers/fixtures.js';

const el = (deps: string[] = [], provides: string[] = []): FlavourSpec => ({ deps, provides });

let root: string;
let elementDir: string;
let overrideDir: string;
let builtin: string;
let index: FlavourIndex;

beforeAll(() => {
  const tree = makeTree({
    elements: {
      'requires-foo': el(['foo']),
      foo: el([], ['operating-system']),
      'requires-requires-foo': el(['requires-foo']),
      self: el(['self']),
      provides_virtual: el([], ['virtual']),
      also_provides_virtual: el([], ['virtual']),
      requires_virtual: el(['virtual'], ['operating-system']),
      virtual: el(['extra_dependency']),
      extra_dependency: el(),
      circular1: el(['circular2'], ['operating-system']),
      circular2: el(['circular1']),
      provides_new_virtual: el([], ['new_virtual', 'operating-system']),
      requires_new_virtual: el(['new_virtual']),
      override_element: el(),
    },
    'element-override': { override_element: el() },
    builtin: {},
  });
  root = tree.root;
  elementDir = tree.dirs.elements as string;
  overrideDir = tree.dirs['element-override'] as string;
  builtin = tree.dirs.builtin as string;
  index = discoverFlavours(searchPaths(`${overrideDir}:${elementDir}`, builtin), builtin);
});
afterAll(() => removeTree(root));

/** get_elements: (name, path) pairs, compared in any order (assertCountEqual). */
const getElements = (names: string[]) =>
  resolveFlavours(index, names, { defaultOs: null, searchPaths: [overrideDir, elementDir] })
    .flavours.map((f) => [f.name, index.get(f.name)?.dir])
    .sort();
const e = (name: string) => [name, path.join(elementDir, name)];
const eo = (name: string) => [name, path.join(overrideDir, name)];
const sorted = (...pairs: (string | undefined)[][]) => pairs.sort();

function thrown(f: () => unknown): KilnError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(2);
    return err as KilnError;
  }
  throw new Error('expected an error');
}

describe('element dependencies (diskimage-builder test_elementdeps.py)', () => {
  test('test_non_transitive_deps', () => {
    expect(getElements(['requires-foo'])).toEqual(sorted(e('foo'), e('requires-foo')));
  });

  test('test_missing_deps', () => {
    expect(thrown(() => getElements(['fake'])).message).toMatch(/unknown flavour "fake"/);
  });

  test('test_invalid_element_dir', () => {
    expect(thrown(() => searchPaths(`${overrideDir}:${elementDir}:/not/a/dir`, builtin)).message).toBe('ELEMENTS_PATH entry "/not/a/dir" is not a directory');
  });

  test('test_transitive_deps', () => {
    expect(getElements(['requires-requires-foo'])).toEqual(sorted(e('requires-requires-foo'), e('requires-foo'), e('foo')));
  });

  test('test_no_deps', () => {
    expect(getElements(['foo'])).toEqual([e('foo')]);
  });

  test('test_self', () => {
    expect(getElements(['self', 'foo'])).toEqual(sorted(e('self'), e('foo')));
  });

  test('test_circular', () => {
    expect(getElements(['circular1'])).toEqual(sorted(e('circular1'), e('circular2')));
  });

  test('test_provide', () => {
    expect(getElements(['provides_virtual', 'requires_virtual'])).toEqual(sorted(e('requires_virtual'), e('provides_virtual')));
  });

  test('test_provide, names reversed: the real element named "virtual" and its extra_dependency stay out', () => {
    expect(getElements(['requires_virtual', 'provides_virtual'])).toEqual(sorted(e('requires_virtual'), e('provides_virtual')));
  });

  test('test_provide_conflict', () => {
    expect(thrown(() => getElements(['virtual', 'provides_virtual'])).message).toBe('"virtual" is named but is already provided by "provides_virtual": name only one of them');
    expect(thrown(() => getElements(['provides_virtual', 'virtual'])).message).toBe('"virtual" is named but is already provided by "provides_virtual": name only one of them');
  });

  test('test_provide_virtual_ordering', () => {
    expect(getElements(['requires_new_virtual', 'provides_new_virtual'])).toEqual(sorted(e('requires_new_virtual'), e('provides_new_virtual')));
  });

  test('test_elements_provide_same', () => {
    expect(thrown(() => getElements(['provides_virtual', 'also_provides_virtual'])).message).toBe('"virtual" is provided by both "provides_virtual" and "also_provides_virtual": use only one of them');
  });

  test('test_no_os_element', () => {
    expect(thrown(() => getElements(['provides_virtual'])).message).toMatch(/^no flavour provides "operating-system"/);
  });

  test('test_duplicated_os_passed_as_element', () => {
    expect(thrown(() => getElements(['circular1', 'operating-system'])).message).toBe('"operating-system" is named but is already provided by "circular1": name only one of them');
  });

  test('test_element_override', () => {
    expect(getElements(['override_element', 'foo'])).toEqual(sorted(e('foo'), eo('override_element')));
  });

  test('test_expand_dependencies_deprecated (names only)', () => {
    expect(getElements(['foo', 'requires-foo']).map(([name]) => name)).toEqual(['foo', 'requires-foo']);
  });

  // test_output_sanity (IMAGE_ELEMENT, IMAGE_ELEMENT_YAML, get_image_element_array) is the hook environment's:
  // lib/build/env.ts and lib/hooks/helpers.ts. TestElements' test_depends_on_env / test_env_not_set: kiln reads
  // ELEMENTS_PATH through its settings, and an unset one means kiln's own flavours only (not an error).
  test('TestElements.test_depends_on_env: the search path is ELEMENTS_PATH, then kiln\'s own flavours', () => {
    expect(searchPaths(`${overrideDir}:${elementDir}`, builtin)).toEqual([overrideDir, elementDir, builtin]);
    expect(searchPaths(undefined, builtin)).toEqual([builtin]);
  });
});

describe('virtual elements: the result does not depend on the order of the names', () => {
  function permutations<T>(xs: readonly T[]): T[][] {
    if (xs.length <= 1) return [[...xs]];
    return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
  }

  test.each([
    [['requires_virtual', 'provides_virtual', 'self']],
    [['requires_new_virtual', 'provides_new_virtual', 'self', 'extra_dependency']],
    [['requires-requires-foo', 'override_element', 'self']],
    [['circular2', 'self', 'extra_dependency']],
  ])('%j in every order', (names) => {
    const results = permutations(names).map((p) => JSON.stringify(getElements(p)));
    expect(new Set(results).size).toBe(1);
  });

  test('a provider found only deeper in the dependencies still keeps the real element named like the virtual out', () => {
    const tree = makeTree({
      els: {
        needs_v: el(['v', 'middle']),
        middle: el(['deep']),
        deep: el([], ['v', 'operating-system']),
        v: el(['pulled_by_real_v']),
        pulled_by_real_v: el(),
      },
    });
    try {
      const idx = discoverFlavours(searchPaths(tree.dirs.els, builtin), builtin);
      const names = (n: string[]) => resolveFlavours(idx, n, { defaultOs: null }).flavours.map((f) => f.name).sort();
      expect(names(['needs_v'])).toEqual(['deep', 'middle', 'needs_v']);
    } finally {
      removeTree(tree.root);
    }
  });

  test('a virtual whose provider comes only through the real element of that name: expanded after all, as diskimage-builder does', () => {
    const tree = makeTree({ els: { a: el(['v'], ['operating-system']), v: el(['p']), p: el([], ['v']) } });
    try {
      const idx = discoverFlavours(searchPaths(tree.dirs.els, builtin), builtin);
      expect(resolveFlavours(idx, ['a'], { defaultOs: null }).flavours.map((f) => f.name)).toEqual(['a', 'p']);
    } finally {
      removeTree(tree.root);
    }
  });
});
