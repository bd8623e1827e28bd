/**
 * The `arguments` section (a map, or the list of one-key maps the seed's text shows) and how the
 * values given on the command line are checked against it: required, choices, defaults (Sahara's
 * rules: an optional argument needs a default; a default must be one of the choices). kiln adds:
 * `required` with a default is contradictory; the reserved names are an error, not a KeyError.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { KilnError, invalid } from '../errors/index.js';
import { RESERVED_ARGUMENTS, type ArgumentSpec } from './types.js';
import { asSeq, asString, checkKeys, childPath, entriesOf, singleEntry, type Entry, type ParseContext, type YNode } from './yaml-nodes.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const FIELDS = ['description', 'default', 'required', 'choices'] as const;

export function isReserved(name: string): boolean {
  return (RESERVED_ARGUMENTS as readonly string[]).includes(name);
}

export function parseArguments(ctx: ParseContext, node: YNode, owner: Node): Map<string, ArgumentSpec> {
  const out = new Map<string, ArgumentSpec>();
  let entries: Entry[] = [];
  if (isMap(node)) entries = entriesOf(ctx, node, 'arguments');
  else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const e = singleEntry(ctx, item as YNode, `arguments[${i}]`, 'an argument');
      if (e) entries.push(e);
    });
  } else if (node !== null && node !== undefined && !(isScalar(node) && node.value === '')) {
    ctx.error(node, 'arguments', 'arguments must be a map of name → {description, default, required, choices}', owner);
    return out;
  }
  for (const e of entries) {
    const arg = parseArgument(ctx, e);
    if (!arg) continue;
    if (out.has(arg.name)) ctx.error(e.keyNode, childPath('arguments', arg.name), `argument "${arg.name}" is declared twice`);
    else out.set(arg.name, arg);
  }
  return out;
}

function parseBool(ctx: ParseContext, node: YNode, path: string, owner: Node): boolean | undefined {
  const text = isScalar(node) && node.type === 'PLAIN' ? String(node.value) : undefined;
  if (text === 'true' || text === 'True') return true;
  if (text === 'false' || text === 'False') return false;
  ctx.error(node ?? undefined, path, 'required must be true or false', owner);
  return undefined;
}

function parseArgument(ctx: ParseContext, e: Entry): ArgumentSpec | undefined {
  const path = childPath('arguments', e.key);
  const before = ctx.issues.length;
  if (isReserved(e.key)) ctx.error(e.keyNode, path, `"${e.key}" is reserved: ${RESERVED_ARGUMENTS.join(' and ')} are set by every run and cannot be declared`);
  else if (!NAME.test(e.key)) ctx.error(e.keyNode, path, `"${e.key}" is not a valid argument name (letters, digits, _ and -)`);
  const empty = e.value === null || e.value === undefined || (isScalar(e.value) && e.value.value === '');
  if (!empty && !isMap(e.value)) {
    ctx.error(e.value ?? undefined, path, 'an argument must be a map of description, default, required, choices');
    return undefined;
  }
  const fields = isMap(e.value) ? checkKeys(ctx, e.value, path, FIELDS) : new Map<string, Entry>();
  const text = (k: string) => {
    const f = fields.get(k);
    return f ? asString(ctx, f.value, `${path}.${k}`, k, f.keyNode) : undefined;
  };
  const description = text('description');
  const dflt = text('default');
  const req = fields.get('required');
  const parsedRequired = req ? parseBool(ctx, req.value, `${path}.required`, req.keyNode) : false;
  const required = parsedRequired ?? false;
  let choices: string[] | undefined;
  const ch = fields.get('choices');
  if (ch) {
    const seq = asSeq(ctx, ch.value, `${path}.choices`, 'choices', ch.keyNode);
    if (seq && seq.items.length === 0) ctx.error(seq, `${path}.choices`, 'choices is empty');
    choices = [];
    seq?.items.forEach((n, i) => {
      const c = asString(ctx, n as YNode, `${path}.choices[${i}]`, 'a choice');
      if (c === undefined) return;
      if (choices?.includes(c)) ctx.error((n as Node | null) ?? undefined, `${path}.choices[${i}]`, `choice "${c}" is listed twice`);
      choices?.push(c);
    });
  }
  const at = fields.get('default')?.value ?? fields.get('required')?.keyNode ?? e.keyNode;
  if (required && dflt !== undefined) ctx.error(at ?? undefined, path, `argument "${e.key}" is required and has a default: drop one of them`);
  if (parsedRequired === false && !fields.has('default')) ctx.error(e.keyNode, path, `argument "${e.key}" is not required, so it must have a default`);
  if (dflt !== undefined && choices && choices.length > 0 && !choices.includes(dflt)) {
    ctx.error(at ?? undefined, `${path}.default`, `default "${dflt}" is not one of the choices (${choices.join(', ')})`);
  }
  if (ctx.issues.length !== before) return undefined;
  return { name: e.key, pos: ctx.pos(e.keyNode), description, default: dflt, required, choices };
}

/**
 * The values a run starts with, in declaration order: given ones checked against their choices,
 * missing ones from their defaults. Every problem is reported at once; exit 2.
 */
export function resolveArguments(declared: ReadonlyMap<string, ArgumentSpec>, given: ReadonlyMap<string, string>, file: string): Map<string, string> {
  const problems: string[] = [];
  for (const name of given.keys()) {
    if (isReserved(name)) problems.push(`argument "${name}" is reserved and set by kiln`);
    else if (!declared.has(name)) {
      const known = [...declared.keys()];
      problems.push(`unknown argument "${name}" (${known.length > 0 ? `${file} declares: ${known.join(', ')}` : `${file} declares no arguments`})`);
    }
  }
  const values = new Map<string, string>();
  for (const arg of declared.values()) {
    const value = given.get(arg.name);
    if (value === undefined) {
      if (arg.required) problems.push(`argument "${arg.name}" is required${arg.description ? ` (${arg.description})` : ''}`);
      else if (arg.default !== undefined) values.set(arg.name, arg.default);
    } else if (arg.choices && !arg.choices.includes(value)) {
      problems.push(`argument "${arg.name}" must be one of ${arg.choices.join(', ')}, not "${value}"`);
    } else values.set(arg.name, value);
  }
  if (problems.length === 1) throw invalid(problems[0] ?? '');
  if (problems.length > 1) throw new KilnError('invalid', `${problems.length} problems with the spec's arguments`, { detail: problems.join('\n') });
  return values;
}
