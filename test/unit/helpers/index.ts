import type { Flavour, FlavourIndex } from '../../../lib/flavours/types.js';

/** An in-memory flavour index for pure planning tests: name → [deps, provides]. */
export function indexOf(specs: Record<string, { deps?: string[]; provides?: string[] }>): FlavourIndex {
  const index = new Map<string, Flavour>();
  for (const [name, s] of Object.entries(specs)) {
    index.set(name, {
      name,
      dir: `/flavours/${name}`,
      searchPath: '/flavours',
      deps: s.deps ?? [],
      provides: s.provides ?? [],
      hooks: {},
      environment: [],
      summary: undefined,
      hasReadme: true,
      overrides: [],
      files: {},
    });
  }
  return index;
}
