import { invalid } from '../errors/index.js';
import type { FlavourIndex, Reason, Resolved } from './types.js';

export const OPERATING_SYSTEM = 'operating-system';

export interface ResolveOptions {
  /** Flavour added when none of the result provides `operating-system`; null: add none (error). */
  readonly defaultOs: string | null;
  /** For error messages: where flavours were searched. */
  readonly searchPaths?: readonly string[];
  /**
   * ramdisk-image-create's ramdisk element: added after the named flavours and their dependencies unless one
   * of them is it or provides it (so a plan that already holds it is unchanged).
   */
  readonly ramdiskElement?: string;
}

/**
 * Resolves named flavours with diskimage-builder's semantics: the transitive closure of element-deps
 * (self-dependencies and cycles are fine); element-provides declares virtual flavours, which are never
 * in the result; a virtual provided twice, or named together with its provider, is an error. A ramdisk
 * build's ramdisk element joins last, with its dependencies.
 * Pure: reads only the index.
 */
export function resolveFlavours(index: FlavourIndex, named: readonly string[], opts: ResolveOptions): Resolved {
  if (named.length === 0) throw invalid('no flavours named', 'name at least one flavour, e.g. "vm"');
  const first = closure(index, named, opts);
  if (first.provided[OPERATING_SYSTEM] !== undefined) return first;
  if (opts.defaultOs === null) {
    throw invalid(
      `no flavour provides "${OPERATING_SYSTEM}": name an operating-system flavour (e.g. debian)`,
      'or drop --default-os none to let kiln add its default',
    );
  }
  if (named.includes(opts.defaultOs)) {
    throw invalid(`default operating-system flavour "${opts.defaultOs}" does not provide "${OPERATING_SYSTEM}"`);
  }
  const second = closure(index, [...named, opts.defaultOs], opts, opts.defaultOs);
  if (second.provided[OPERATING_SYSTEM] === undefined) {
    throw invalid(`default operating-system flavour "${opts.defaultOs}" does not provide "${OPERATING_SYSTEM}"`);
  }
  return { ...second, defaultOsAdded: opts.defaultOs };
}

function closure(index: FlavourIndex, named: readonly string[], opts: ResolveOptions, defaultOs?: string): Resolved {
  const reasons = new Map<string, Reason>();
  const providedBy = new Map<string, string>();
  const unresolved = new Map<string, string>(); // name → first flavour that depends on it
  const queue: string[] = [];

  const drain = () => {
    while (queue.length > 0) {
      const name = queue.shift() as string;
      const flavour = index.get(name);
      if (!flavour) {
        // Perhaps a virtual that a flavour later in the queue provides: decide after the closure.
        const reason = reasons.get(name);
        unresolved.set(name, reason?.kind === 'dependency' ? reason.of : '');
        continue;
      }
      for (const virtual of flavour.provides) {
        const other = providedBy.get(virtual);
        if (other !== undefined && other !== name) {
          throw invalid(`"${virtual}" is provided by both "${other}" and "${name}": use only one of them`);
        }
        providedBy.set(virtual, name);
      }
      for (const dep of flavour.deps) {
        if (reasons.has(dep) || providedBy.has(dep)) continue;
        reasons.set(dep, { kind: 'dependency', of: name });
        queue.push(dep);
      }
    }
  };

  for (const name of named) {
    if (reasons.has(name)) continue;
    reasons.set(name, name === defaultOs ? { kind: 'default-os', provides: OPERATING_SYSTEM } : { kind: 'named' });
    queue.push(name);
  }
  drain();
  const rd = opts.ramdiskElement;
  if (rd !== undefined && !reasons.has(rd) && !providedBy.has(rd)) {
    if (!index.has(rd)) throw unknownRamdiskElement(rd, opts.searchPaths);
    reasons.set(rd, { kind: 'ramdisk-element' });
    queue.push(rd);
    drain();
  }

  for (const [name, requiredBy] of unresolved) {
    if (!providedBy.has(name)) throw unknownFlavour(name, requiredBy || undefined, opts.searchPaths);
  }
  for (const name of named) {
    const provider = providedBy.get(name);
    if (provider !== undefined && provider !== name) {
      throw invalid(`"${name}" is named but is already provided by "${provider}": name only one of them`);
    }
  }

  const flavours = [...reasons]
    .filter(([name]) => index.has(name) && (providedBy.get(name) ?? name) === name)
    .map(([name, reason]) => ({ name, reason }));
  return { flavours, provided: Object.fromEntries(providedBy), defaultOsAdded: undefined };
}

function unknownFlavour(name: string, requiredBy: string | undefined, searchPaths: readonly string[] | undefined) {
  const by = requiredBy === undefined ? '' : ` (required by "${requiredBy}")`;
  const where = searchPaths && searchPaths.length > 0 ? `; searched ${searchPaths.join(', ')}` : '';
  return invalid(`unknown flavour "${name}"${by}${where}`, 'check the name, or add its directory to ELEMENTS_PATH');
}

function unknownRamdiskElement(name: string, searchPaths: readonly string[] | undefined) {
  const where = searchPaths && searchPaths.length > 0 ? `; searched ${searchPaths.join(', ')}` : '';
  return invalid(
    `ramdisk element "${name}" (--ramdisk-element / RAMDISK_ELEMENT) is not a flavour${where}`,
    "kiln's is ramdisk-base, the default (it replaces diskimage-builder's ramdisk and dracut-ramdisk); or add its directory to ELEMENTS_PATH",
  );
}

export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case 'named':
      return 'named';
    case 'dependency':
      return `dependency of ${reason.of}`;
    case 'default-os':
      return `default operating system (nothing named provides ${reason.provides})`;
    case 'ramdisk-element':
      return 'ramdisk element, added by ramdisk-image-create (--ramdisk-element or RAMDISK_ELEMENT chooses another)';
  }
}
