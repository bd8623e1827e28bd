/**
 * How a spec shows itself to a person (`kiln pack --help SPEC`, `kiln pack --list`) and to a machine
 * (`--list --json`): its arguments as options, with every key the spec gave them, and its notes.
 * Pure functions over loaded specs.
 */
import { formatIssue, type ArgumentSpec, type Spec, type SpecIssue } from './types.js';

/** An argument as `--list --json` shows it. */
export interface ArgumentInfo {
  readonly name: string;
  readonly description: string | null;
  readonly default: string | null;
  readonly required: boolean;
  readonly choices: readonly string[] | null;
  readonly hidden: boolean;
  /** The keys beyond the known ones, as written. */
  readonly extra: Readonly<Record<string, string>>;
}

export function argumentInfo(a: ArgumentSpec): ArgumentInfo {
  return {
    name: a.name,
    description: a.description ?? null,
    default: a.default ?? null,
    required: a.required,
    choices: a.choices ?? null,
    hidden: a.hidden,
    extra: Object.fromEntries(a.extra),
  };
}

/** `    --NAME VALUE  description (default X; one of a, b; hidden; key: value)` */
export function argumentLine(a: ArgumentSpec): string {
  const facts = [
    a.required ? 'required' : `default ${a.default ?? ''}`,
    ...(a.choices && a.choices.length > 0 ? [`one of ${a.choices.join(', ')}`] : []),
    ...(a.hidden ? ['hidden'] : []),
    ...[...a.extra].map(([k, v]) => `${k}: ${v}`),
  ];
  return `    --${a.name} VALUE  ${a.description ?? ''} (${facts.join('; ')})`;
}

/** The arguments `--list` shows: all of them with --all, else the ones not hidden. */
export function shownArguments(spec: Spec, all: boolean): ArgumentSpec[] {
  return [...spec.arguments.values()].filter((a) => all || !a.hidden);
}

export function noteLines(notes: readonly SpecIssue[]): string[] {
  return notes.map((n) => `    note: ${formatIssue(n)}`);
}

/** `kiln pack --help SPEC`: every argument (Sahara's image-pack CLI offers hidden ones too), then the notes. */
export function helpText(spec: Spec): string {
  const args = [...spec.arguments.values()];
  const lines = [`Arguments of ${spec.file}:`, ...(args.length > 0 ? args.map(argumentLine) : ['    (none)']), ...noteLines(spec.notes)];
  return `\n${lines.join('\n')}\n`;
}

/** One spec of `kiln pack --list`: its arguments (hidden ones counted unless --all) and its notes. */
export function listingLines(head: string, spec: Spec, all: boolean): string[] {
  const shown = shownArguments(spec, all);
  const hidden = spec.arguments.size - shown.length;
  return [
    head,
    ...shown.map(argumentLine),
    ...(hidden > 0 ? [`    (${hidden} hidden argument${hidden === 1 ? '' : 's'}: --all shows ${hidden === 1 ? 'it' : 'them'})`] : []),
    ...noteLines(spec.notes),
  ];
}

/** A spec of `kiln pack --list` that could not be loaded: named, with every problem. */
export function brokenLines(head: string, issues: readonly SpecIssue[]): string[] {
  return [`${head}  cannot be loaded (${issues.length} problem${issues.length === 1 ? '' : 's'}):`, ...issues.map((i) => `    ${formatIssue(i)}`)];
}
