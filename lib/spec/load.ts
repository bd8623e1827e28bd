/**
 * Loads a spec: YAML with positions → arguments and a typed validator tree. Every problem is
 * collected and reported at once (`spec.yaml:12:5: validators[2].any[0]: unknown validator type
 * "pkg"`), exit 2. Script files are found and read here, at load time. What Sahara's own loader
 * accepts loads here too; where kiln has something to say about it (a key Sahara ignores, a branch that
 * can only fail), the spec carries a note with its place, which `kiln pack` shows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, isMap, parseDocument, type Node } from 'yaml';
import { KilnError, invalid } from '../errors/index.js';
import { isReserved, parseArguments } from './arguments.js';
import { formatIssue, type Spec, type SpecIssue, type Validator } from './types.js';
import { VALIDATORS, isValidatorKind } from './validators/registry.js';
import { asSeq, checkKeys, singleEntry, ParseContext, type YNode } from './yaml-nodes.js';

export interface LoadOptions {
  /** More directories to look for scripts in, after the spec's own directory. */
  readonly resourceRoots?: readonly string[];
  /** The name used in messages (default: the path as given). */
  readonly displayName?: string;
}

export type ParseResult = { readonly ok: true; readonly spec: Spec } | { readonly ok: false; readonly issues: readonly SpecIssue[] };

function parseList(node: YNode, listPath: string, ctx: ParseContext): Validator[] {
  const seq = asSeq(ctx, node, listPath, 'a validator list');
  if (!seq) return [];
  const out: Validator[] = [];
  seq.items.forEach((item, i) => {
    const itemPath = `${listPath}[${i}]`;
    const e = singleEntry(ctx, item as YNode, itemPath, 'a validator', seq);
    if (!e) return;
    if (!isValidatorKind(e.key)) {
      ctx.error(e.keyNode, itemPath, `unknown validator type "${e.key}" (known: ${Object.keys(VALIDATORS).join(', ')})`);
      return;
    }
    const at = { keyNode: e.keyNode, pos: ctx.pos(e.keyNode), path: `${itemPath}.${e.key}` };
    const v = VALIDATORS[e.key].parse(e.value, at, ctx);
    if (v) out.push(v);
  });
  return out;
}

/** Parses spec text; `file` names it in messages, `specDir` is where its scripts are looked up first. */
export function parseSpec(text: string, file: string, specDir: string, resourceRoots: readonly string[] = []): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, schema: 'failsafe', prettyErrors: false, uniqueKeys: true });
  const ctx = new ParseContext(file, specDir, resourceRoots, doc, lines, parseList);
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const at = lines.linePos(e.pos[0]);
      return { pos: { file, line: at.line, col: at.col }, path: '', message: e.message.split('\n')[0] ?? e.message };
    });
    return { ok: false, issues };
  }
  const root = doc.contents as Node | null;
  if (!isMap(root)) {
    ctx.error(root ?? undefined, '', 'a spec must be a map with "validators" (and optionally "arguments")');
    return { ok: false, issues: ctx.issues };
  }
  const keys = checkKeys(ctx, root, '', ['arguments', 'validators'], 'note');
  const argEntry = keys.get('arguments');
  const args = argEntry ? parseArguments(ctx, argEntry.value, argEntry.keyNode) : new Map();
  const valEntry = keys.get('validators');
  if (!valEntry) ctx.error(root, '', 'a spec needs a "validators" list');
  const validators = valEntry ? parseList(valEntry.value ?? valEntry.keyNode, 'validators', ctx) : [];
  for (const use of ctx.argumentUses) {
    if (args.has(use.name) || isReserved(use.name) || ctx.definedAtRun.has(use.name)) continue;
    const effect = use.by === 'argument_case' ? 'this argument_case fails whenever it runs' : 'it is never exported';
    ctx.note(use.node, use.path, `argument "${use.name}" is neither declared in "arguments" nor set by argument_set or a script's output: ${effect}`);
  }
  if (ctx.issues.length > 0) return { ok: false, issues: sortIssues(ctx.issues) };
  return { ok: true, spec: { file, arguments: args, validators, notes: sortIssues(ctx.notes) } };
}

function sortIssues(issues: readonly SpecIssue[]): SpecIssue[] {
  return [...issues].sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}

/** The error for a spec with problems: one line per problem. */
export function specError(file: string, issues: readonly SpecIssue[]): KilnError {
  const lines = issues.map(formatIssue);
  if (lines.length === 1) return invalid(lines[0] ?? file);
  return new KilnError('invalid', `${file}: ${lines.length} problems`, { detail: lines.join('\n') });
}

/** Reads and parses a spec file; an unreadable file is a problem like any other. */
export function readSpec(file: string, opts: LoadOptions = {}): ParseResult {
  const name = opts.displayName ?? file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return { ok: false, issues: [{ pos: { file: name, line: 1, col: 1 }, path: '', message: `cannot read spec: ${why}` }] };
  }
  const roots = (opts.resourceRoots ?? []).map((r) => path.resolve(r));
  return parseSpec(text, name, path.dirname(path.resolve(file)), roots);
}

/** Reads and parses a spec file; throws one KilnError (exit 2) listing every problem. */
export function loadSpec(file: string, opts: LoadOptions = {}): Spec {
  const r = readSpec(file, opts);
  if (!r.ok) throw specError(opts.displayName ?? file, r.issues);
  return r.spec;
}
