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
 * (self-dependencies and cycles are fine); element-provides declares virtual flavours: a name some flavour
 * of the result provides is satisfied by that provider, never expanded itself (even when a real flavour has
 * that name: its own dependencies are not pulled in) and never in the result. A virtual provided twice, or
 * a named flavour that another flavour of the result provides, is an error naming both.
 * The result does not depend on the order of the names. A ramdisk build's ramdisk element joins unless the
 * result already holds or provides it. Pure: reads only the index.
 */
export function resolveFlavours(index: FlavourIndex, named: readonly string[], opts: ResolveOptions): Resolved {
  if (named.length === 0) throw invalid('no flavours named', 'name at least one flavour, e.g. "vm"');
  const rd = opts.ramdiskElement;
  if (rd === undefined) return withOperatingSystem(index, named, opts);
  // Without the ramdisk element first: a plan that already holds or provides it stays as it is. A plan that
  // fails without it may be completed by it (it provides operating-system, or a name a flavour requires).
  let without: Resolved | undefined;
  let failure: unknown;
  try {
    without = withOperatingSystem(index, named, opts);
  } catch (e) {
    failure = e;
  }
  if (without && (without.flavours.some((f) => f.name === rd) || without.provided[rd] !== undefined)) return without;
  if (!index.has(rd)) throw failure ?? unknownRamdiskElement(rd, opts.searchPaths);
  return withOperatingSystem(index, named, opts, rd);
}

/** The closure of the names (and of the ramdisk element, when given), with the default operating system added if none is provided. */
function withOperatingSystem(index: FlavourIndex, named: readonly string[], opts: ResolveOptions, ramdisk?: string): Resolved {
  const first = closure(index, named, opts, undefined, ramdisk);
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
  const second = closure(index, [...named, opts.defaultOs], opts, opts.defaultOs, ramdisk);
  if (second.provided[OPERATING_SYSTEM] === undefined) {
    throw invalid(`default operating-system flavour "${opts.defaultOs}" does not provide "${OPERATING_SYSTEM}"`);
  }
  return { ...second, defaultOsAdded: opts.defaultOs };
}

/** One breadth-first expansion (see closure). */
interface Pass {
  readonly reasons: Map<string, Reason>;
  /** Flavours whose deps and provides were taken, in the order they were. */
  readonly expanded: readonly string[];
  /** Virtual name → every expanded flavour that provides it. */
  readonly providers: Map<string, string[]>;
  /** Names not in the index → the flavour that first required them ('' when named). */
  readonly unknown: Map<string, string>;
}

/**
 * Breadth-first from the named flavours, like diskimage-builder's expand_dependencies: a name is skipped
 * when it is already provided as it comes up (or assumed provided), else it must be a flavour and its deps
 * and provides are taken. A name not in the index is decided at the end (a provider may come later).
 */
function expand(index: FlavourIndex, named: readonly string[], assumed: ReadonlySet<string>, defaultOs: string | undefined, ramdisk: string | undefined): Pass {
  const pass: Pass = { reasons: new Map(), expanded: [], providers: new Map(), unknown: new Map() };
  const { reasons, providers } = pass;
  const queue: string[] = [];
  for (const name of named) {
    if (reasons.has(name)) continue;
    reasons.set(name, name === defaultOs ? { kind: 'default-os', provides: OPERATING_SYSTEM } : { kind: 'named' });
    queue.push(name);
  }
  // The ramdisk element joins after the named flavours and their dependencies (their order is unchanged).
  let rd = ramdisk;
  while (queue.length > 0 || (rd !== undefined && !reasons.has(rd))) {
    if (queue.length === 0 && rd !== undefined) {
      reasons.set(rd, { kind: 'ramdisk-element' });
      queue.push(rd);
      rd = undefined;
    }
    const name = queue.shift() as string;
    if (assumed.has(name) || (providers.get(name) ?? []).some((p) => p !== name)) continue;
    const flavour = index.get(name);
    if (!flavour) {
      const reason = reasons.get(name);
      pass.unknown.set(name, reason?.kind === 'dependency' ? reason.of : '');
      continue;
    }
    (pass.expanded as string[]).push(name);
    for (const virtual of flavour.provides) {
      const list = providers.get(virtual) ?? [];
      if (!list.includes(name)) list.push(name);
      providers.set(virtual, list);
    }
    for (const dep of flavour.deps) {
      if (reasons.has(dep)) continue;
      reasons.set(dep, { kind: 'dependency', of: name });
      queue.push(dep);
    }
  }
  return pass;
}

/** Who provides a name, other than the flavour of that name itself (a flavour may list its own name). */
function providerOf(pass: Pass, name: string): string | undefined {
  return (pass.providers.get(name) ?? []).find((p) => p !== name);
}

/**
 * The closure, independent of the order of the names: diskimage-builder skips a name that is already
 * provided when it comes up, so a real flavour named like a virtual would be expanded (and its dependencies
 * pulled in) whenever its provider happens to come up later. Here, a pass that expanded a flavour that the
 * pass's result provides is run again with that name assumed provided, until none is. Should the provider
 * then vanish (it came only through the flavour it provides), the name is expanded after all, as
 * diskimage-builder would. Errors are decided on the final pass only.
 */
function closure(index: FlavourIndex, named: readonly string[], opts: ResolveOptions, defaultOs?: string, ramdisk?: string): Resolved {
  const assumed = new Set<string>();
  const never = new Set<string>();
  let pass = expand(index, named, assumed, defaultOs, ramdisk);
  for (let round = 0; round <= 2 * (index.size + named.length) + 2; round++) {
    const wrongly = pass.expanded.filter((n) => !never.has(n) && providerOf(pass, n) !== undefined);
    const vanished = [...assumed].filter((n) => pass.reasons.has(n) && providerOf(pass, n) === undefined);
    if (wrongly.length === 0 && vanished.length === 0) break;
    for (const n of wrongly) assumed.add(n);
    for (const n of vanished) {
      assumed.delete(n);
      never.add(n);
    }
    pass = expand(index, named, assumed, defaultOs, ramdisk);
  }

  for (const [virtual, list] of pass.providers) {
    const others = list.filter((p) => p !== virtual);
    if (others.length > 1) throw invalid(`"${virtual}" is provided by both "${others[0]}" and "${others[1]}": use only one of them`);
  }
  for (const [name, requiredBy] of pass.unknown) {
    if (providerOf(pass, name) === undefined) throw unknownFlavour(name, requiredBy || undefined, opts.searchPaths);
  }
  for (const name of new Set(named)) {
    const provider = providerOf(pass, name);
    if (provider !== undefined) throw invalid(`"${name}" is named but is already provided by "${provider}": name only one of them`);
  }

  const expanded = new Set(pass.expanded);
  const flavours = [...pass.reasons]
    .filter(([name]) => expanded.has(name) && providerOf(pass, name) === undefined)
    .map(([name, reason]) => ({ name, reason }));
  const provided = Object.fromEntries([...pass.providers].map(([virtual, list]) => [virtual, list[0] as string]));
  return { flavours, provided, defaultOsAdded: undefined };
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
