/**
 * The spec language's typed form: a loaded spec is a list of declared arguments and a tree of
 * validators (a discriminated union on `kind`), every node keeping where it was written so that
 * runtime messages can point at the spec (`spec.yaml:12:5: validators[2].any[0]: …`).
 */

/** A place in a spec file (1-based line and column). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem found while loading a spec. */
export interface SpecIssue {
  readonly pos: SourcePos;
  /** Where in the document, e.g. `validators[2].any[0]`. */
  readonly path: string;
  readonly message: string;
}

/** What every validator node carries. */
export interface NodeBase {
  readonly pos: SourcePos;
  readonly path: string;
}

import type { PackageRef } from '../distro/packages.js';

export type { PackageRef };

export interface PackageValidator extends NodeBase {
  readonly kind: 'package';
  readonly packages: readonly PackageRef[];
}

export interface ScriptValidator extends NodeBase {
  readonly kind: 'script';
  /** The file name, or the friendly name of an inline script. */
  readonly name: string;
  readonly contents: string;
  /** Where the contents came from: a host file, or `inline`. */
  readonly source: string;
  /** Argument names exported to the script, `test_only` and `distro` first. */
  readonly envVars: readonly string[];
  /** The argument that receives the script's stdout. */
  readonly output: string | undefined;
}

export interface CopyScriptValidator extends NodeBase {
  readonly kind: 'copy_script';
  readonly name: string;
  readonly contents: string;
  readonly source: string;
}

export interface AllValidator extends NodeBase {
  readonly kind: 'all';
  readonly children: readonly Validator[];
}

export interface AnyValidator extends NodeBase {
  readonly kind: 'any';
  readonly children: readonly Validator[];
}

export interface OsCase {
  /** A distro ID (`ubuntu`) or a family (`debian`, `redhat`, `suse`). */
  readonly distro: string;
  readonly pos: SourcePos;
  readonly body: AllValidator;
}

export interface OsCaseValidator extends NodeBase {
  readonly kind: 'os_case';
  readonly cases: readonly OsCase[];
}

export interface ArgumentCaseValidator extends NodeBase {
  readonly kind: 'argument_case';
  readonly argument: string;
  /** Argument value → validators; at most one matches. */
  readonly cases: ReadonlyMap<string, AllValidator>;
}

export interface ArgumentSetValidator extends NodeBase {
  readonly kind: 'argument_set';
  readonly argument: string;
  readonly value: string;
}

export type Validator =
  | PackageValidator
  | ScriptValidator
  | CopyScriptValidator
  | AllValidator
  | AnyValidator
  | OsCaseValidator
  | ArgumentCaseValidator
  | ArgumentSetValidator;

export type ValidatorKind = Validator['kind'];
export type ValidatorOf<K extends ValidatorKind> = Extract<Validator, { kind: K }>;

export interface ArgumentSpec {
  readonly name: string;
  readonly pos: SourcePos;
  readonly description: string | undefined;
  readonly default: string | undefined;
  readonly required: boolean;
  readonly choices: readonly string[] | undefined;
  /** `hidden: true` (the CDH and MapR specs): left out of `kiln pack --list` unless --all; still settable. */
  readonly hidden: boolean;
  /** Keys beyond the known ones (Sahara's schema allows any and reads none of them), with their text. */
  readonly extra: ReadonlyMap<string, string>;
}

export interface Spec {
  readonly file: string;
  readonly arguments: ReadonlyMap<string, ArgumentSpec>;
  /** The top-level validators (run as one `all`, reported one by one). */
  readonly validators: readonly Validator[];
  /** What loaded but deserves a word, with its place: keys Sahara ignores, branches that always fail. */
  readonly notes: readonly SpecIssue[];
}

/** Names every run defines; a spec cannot declare them as arguments. */
export const RESERVED_ARGUMENTS = ['distro', 'test_only'] as const;

export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

export function formatIssue(issue: SpecIssue): string {
  return issue.path === '' ? `${formatPos(issue.pos)}: ${issue.message}` : `${formatPos(issue.pos)}: ${issue.path}: ${issue.message}`;
}
