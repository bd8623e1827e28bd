/**
 * A thin typed view of the `yaml` package's document nodes for the spec loader: scalars as strings
 * (the failsafe schema keeps `1.10` as "1.10"), positions as file:line:col, and every problem
 * collected rather than thrown so that a load reports them all at once.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import type { SourcePos, SpecIssue, Validator } from './types.js';

export type YNode = Node | null | undefined;

export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: YNode;
}

export class ParseContext {
  readonly issues: SpecIssue[] = [];
  /** What Sahara's loader accepts but kiln has something to say about (ignored keys, branches that always fail). */
  readonly notes: SpecIssue[] = [];
  /** Argument names that argument_set or a script's `output` may define at run time. */
  readonly definedAtRun = new Set<string>();
  /** Arguments named by argument_case and env_vars, checked once the whole spec is read. */
  readonly argumentUses: { name: string; node: Node; path: string; by: 'argument_case' | 'env_vars' }[] = [];

  constructor(
    readonly file: string,
    readonly specDir: string,
    readonly resourceRoots: readonly string[],
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** Parses a list of validators (set by the loader, so validator modules need not import the registry). */
    readonly parseList: (node: YNode, path: string, ctx: ParseContext) => Validator[],
  ) {}

  pos(node: Node | undefined, fallback?: Node): SourcePos {
    const at = node?.range?.[0] ?? fallback?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(at);
    return { file: this.file, line, col };
  }

  error(node: Node | undefined, path: string, message: string, fallback?: Node): void {
    this.issues.push({ pos: this.pos(node, fallback), path, message });
  }

  /** Records a note: the spec loads, and the note is shown with it. */
  note(node: Node | undefined, path: string, message: string, fallback?: Node): void {
    this.notes.push({ pos: this.pos(node, fallback), path, message });
  }

  resolve(node: YNode): YNode {
    return isAlias(node) ? (node.resolve(this.doc) as Node | undefined) : node;
  }
}

/** The text of a scalar, or undefined when the node is missing or empty. */
export function scalarText(node: YNode): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (v === null || v === undefined) return undefined;
  return String(v);
}

export function describe(node: YNode): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return scalarText(node) === undefined || scalarText(node) === '' ? 'nothing' : `"${scalarText(node)}"`;
  return 'something else';
}

export function asMap(ctx: ParseContext, node: YNode, path: string, what: string, owner?: Node): YAMLMap | undefined {
  const n = ctx.resolve(node);
  if (isMap(n)) return n;
  ctx.error(n ?? undefined, path, `${what} must be a map, found ${describe(n)}`, owner);
  return undefined;
}

export function asSeq(ctx: ParseContext, node: YNode, path: string, what: string, owner?: Node): YAMLSeq | undefined {
  const n = ctx.resolve(node);
  if (isSeq(n)) return n;
  ctx.error(n ?? undefined, path, `${what} must be a list, found ${describe(n)}`, owner);
  return undefined;
}

/** A non-empty string scalar, or an error. */
export function asString(ctx: ParseContext, node: YNode, path: string, what: string, owner?: Node): string | undefined {
  const n = ctx.resolve(node);
  const text = scalarText(n);
  if (text !== undefined && text !== '') return text;
  ctx.error(n ?? undefined, path, `${what} must be a non-empty string, found ${describe(n)}`, owner);
  return undefined;
}

/** A map's entries with string keys (a non-scalar key is an error). */
export function entriesOf(ctx: ParseContext, map: YAMLMap, path: string): Entry[] {
  const out: Entry[] = [];
  for (const pair of map.items) {
    const keyNode = pair.key as Node;
    const key = scalarText(keyNode);
    if (key === undefined || key === '') {
      ctx.error(keyNode ?? undefined, path, 'keys must be non-empty strings', map);
      continue;
    }
    out.push({ key, keyNode, value: ctx.resolve(pair.value as YNode) });
  }
  return out;
}

/** A list item or case written as a map with exactly one key. */
export function singleEntry(ctx: ParseContext, node: YNode, path: string, what: string, owner?: Node): Entry | undefined {
  const map = asMap(ctx, node, path, what, owner);
  if (!map) return undefined;
  const entries = entriesOf(ctx, map, path);
  if (map.items.length !== 1) {
    const keys = entries.map((e) => e.key).join(', ');
    ctx.error(map, path, `${what} must have exactly one key, found ${map.items.length}${keys ? ` (${keys})` : ''}`, owner);
    return undefined;
  }
  return entries[0];
}

/**
 * Reports keys outside the allowed set; returns the entries by key. Where Sahara's schema allows more keys
 * than it reads (`unknown: 'note'`), the others are ignored with a note rather than refused.
 */
export function checkKeys(ctx: ParseContext, map: YAMLMap, path: string, allowed: readonly string[], unknown: 'error' | 'note' = 'error'): Map<string, Entry> {
  const byKey = new Map<string, Entry>();
  for (const e of entriesOf(ctx, map, path)) {
    if (!allowed.includes(e.key)) {
      const expected = `expected ${allowed.map((a) => `"${a}"`).join(', ')}`;
      if (unknown === 'note') ctx.note(e.keyNode, path, `unknown key "${e.key}" is ignored, as Sahara ignores it (${expected})`);
      else ctx.error(e.keyNode, path, `unknown key "${e.key}" (${expected})`);
      continue;
    }
    byKey.set(e.key, e);
  }
  return byKey;
}

/** YAML 1.1's booleans, as Sahara's loader (PyYAML) reads them: true/yes/on and false/no/off, in three cases. */
const spellings = (w: string) => [w, w.charAt(0).toUpperCase() + w.slice(1), w.toUpperCase()];
const BOOLEANS = new Map<string, boolean>([
  ...['true', 'yes', 'on'].flatMap((w) => spellings(w).map((t): [string, boolean] => [t, true])),
  ...['false', 'no', 'off'].flatMap((w) => spellings(w).map((t): [string, boolean] => [t, false])),
]);

/** A plain (unquoted) scalar that PyYAML reads as a boolean, or undefined. */
export function booleanOf(node: YNode): boolean | undefined {
  if (!isScalar(node) || node.type !== 'PLAIN') return undefined;
  return BOOLEANS.get(String(node.value));
}

/** `base.key`, or `base["key"]` when the key is not a plain name. */
export function childPath(base: string, key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key);
  if (base === '') return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}
