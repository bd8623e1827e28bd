/**
 * The `arguments` section (a map, or the list of one-key maps the seed's text shows) and how the
 * values given on the command line are checked against it: required, choices, defaults (Sahara's
 * rules: an optional argument needs a default; a default must be one of the choices). Sahara's schema
 * allows keys beyond these: they are kept as written (`extra`), and `hidden` (which the CDH and MapR
 * specs set) keeps an argument out of `kiln pack --list`. What Sahara accepts but is odd (a required
 * argument's default, a choice listed twice, empty choices) loads with a note. kiln adds: the reserved
 * names are an error, not a KeyError, and a name must be one an option can carry.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { KilnError, invalid } from '../errors/index.js';
import { RESERVED_ARGUMENTS, type ArgumentSpec } from './types.js';
import { asSeq, asString, booleanOf, childPath, entriesOf, scalarText, singleEntry, type Entry, type ParseContext, type YNode } from './yaml-nodes.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const FIELDS = ['description', 'default', 'required', 'choices', 'hidden'] as const;

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

function parseRequired(ctx: ParseContext, node: YNode, path: string, owner: Node): boolean | undefined {
  const b = booleanOf(node);
  if (b === undefined) ctx.error(node ?? undefined, path, 'required must be true or false', owner);
  return b;
}

/** The text of a kept key's value: a scalar as written, a list or map as JSON. */
function valueText(node: YNode): string {
  if (node === null || node === undefined) return '';
  if (isScalar(node)) return scalarText(node) ?? '';
  return JSON.stringify(node.toJSON());
}

/** Splits an argument's map into the known fields and the rest (kept, in order). */
function fieldsOf(ctx: ParseContext, map: YNode, path: string): { fields: Map<string, Entry>; extra: Map<string, string> } {
  const fields = new Map<string, Entry>();
  const extra = new Map<string, string>();
  if (!isMap(map)) return { fields, extra };
  for (const e of entriesOf(ctx, map, path)) {
    if ((FIELDS as readonly string[]).includes(e.key)) fields.set(e.key, e);
    else extra.set(e.key, valueText(e.value));
  }
  return { fields, extra };
}

/** Reads `choices`; a choice listed twice is noted and kept once; an empty list is noted. */
function parseChoices(ctx: ParseContext, ch: Entry, path: string): string[] | undefined {
  const seq = asSeq(ctx, ch.value, `${path}.choices`, 'choices', ch.keyNode);
  if (!seq) return undefined;
  // Sahara checks `if choices and value not in choices`: an empty list restricts nothing.
  if (seq.items.length === 0) ctx.note(seq, `${path}.choices`, 'choices is empty: any value is accepted (as in Sahara)');
  const choices: string[] = [];
  seq.items.forEach((n, i) => {
    const c = asString(ctx, n as YNode, `${path}.choices[${i}]`, 'a choice');
    if (c === undefined) return;
    if (choices.includes(c)) ctx.note((n as Node | null) ?? undefined, `${path}.choices[${i}]`, `choice "${c}" is listed twice`);
    else choices.push(c);
  });
  return choices;
}

/** Nothing written (Sahara reads it as None). */
function blank(node: YNode): boolean {
  return node === null || node === undefined || (isScalar(node) && (scalarText(node) ?? '') === '');
}

function parseArgument(ctx: ParseContext, e: Entry): ArgumentSpec | undefined {
  const path = childPath('arguments', e.key);
  const before = ctx.issues.length;
  if (isReserved(e.key)) ctx.error(e.keyNode, path, `"${e.key}" is reserved: ${RESERVED_ARGUMENTS.join(' and ')} are set by every run and cannot be declared`);
  else if (!NAME.test(e.key)) ctx.error(e.keyNode, path, `"${e.key}" is not a valid argument name (letters, digits, _ and -)`);
  if (!blank(e.value) && !isMap(e.value)) {
    ctx.error(e.value ?? undefined, path, 'an argument must be a map of description, default, required, choices');
    return undefined;
  }
  const { fields, extra } = fieldsOf(ctx, e.value, path);
  // Sahara reads a missing or empty description or default as none.
  const text = (k: string) => {
    const f = fields.get(k);
    if (!f || blank(f.value)) return undefined;
    return asString(ctx, f.value, `${path}.${k}`, k, f.keyNode);
  };
  const description = text('description');
  let dflt = text('default');
  const req = fields.get('required');
  const parsedRequired = req ? parseRequired(ctx, req.value, `${path}.required`, req.keyNode) : false;
  const required = parsedRequired ?? false;
  const hid = fields.get('hidden');
  const hidden = hid ? booleanOf(hid.value) : false;
  if (hid && hidden === undefined) ctx.note(hid.value ?? hid.keyNode, `${path}.hidden`, 'hidden is not true or false: the argument is shown');
  const ch = fields.get('choices');
  const choices = ch ? parseChoices(ctx, ch, path) : undefined;
  const at = fields.get('default')?.value ?? fields.get('required')?.keyNode ?? e.keyNode;
  if (parsedRequired === false && dflt === undefined) ctx.error(e.keyNode, path, `argument "${e.key}" is not required, so it must have a default`);
  if (dflt !== undefined && choices && choices.length > 0 && !choices.includes(dflt)) {
    ctx.error(at ?? undefined, `${path}.default`, `default "${dflt}" is not one of the choices (${choices.join(', ')})`);
  }
  if (required && dflt !== undefined) {
    ctx.note(at ?? undefined, `${path}.default`, `argument "${e.key}" is required, so its default "${dflt}" is never used`);
    dflt = undefined;
  }
  if (ctx.issues.length !== before) return undefined;
  return { name: e.key, pos: ctx.pos(e.keyNode), description, default: dflt, required, choices, hidden: hidden ?? false, extra };
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
    } else if (arg.choices && arg.choices.length > 0 && !arg.choices.includes(value)) {
      problems.push(`argument "${arg.name}" must be one of ${arg.choices.join(', ')}, not "${value}"`);
    } else values.set(arg.name, value);
  }
  if (problems.length === 1) throw invalid(problems[0] ?? '');
  if (problems.length > 1) throw new KilnError('invalid', `${problems.length} problems with the spec's arguments`, { detail: problems.join('\n') });
  return values;
}
