/**
 * package-installs.yaml / .json, as diskimage-builder's package-installs element reads it:
 *
 *   name:                      # installed in install.d
 *   other:
 *     phase: pre-install.d     # which chroot phase
 *     uninstall: true          # removed (at the end of the phase) instead of installed
 *     build-only: true         # installed at the start of the phase, removed at its end
 *     arch: amd64, arm64       # only on these architectures
 *     not-arch: i386           # never on these (not both arch and not-arch)
 *     when: DIB_FOO = bar      # only when the condition(s) hold (=, !=); a list means all; an unset
 *                              # variable is an error
 *     installtype: package     # only when the flavour's install type (DIB_INSTALLTYPE_<flavour>,
 *                              # else DIB_DEFAULT_INSTALLTYPE, else "source") is this one
 *
 * Parsing and filtering are pure; the result is one install list and one removal list per phase, and
 * phaseSteps places them among the phase's hooks where diskimage-builder's own package hooks run.
 */
import fs from 'node:fs';
import YAML, { LineCounter, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { invalid } from '../errors/index.js';
import { compareHookNames } from '../flavours/phases.js';

export type PackagePhase = 'pre-install.d' | 'install.d' | 'post-install.d';
export const PACKAGE_PHASES: readonly PackagePhase[] = ['pre-install.d', 'install.d', 'post-install.d'];

/** One `when` statement: VAR = value or VAR != value. */
export interface Condition {
  readonly text: string;
  readonly variable: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export interface PackageEntry {
  readonly name: string;
  readonly flavour: string;
  /** The package-installs file, and the entry's line in it (YAML only). */
  readonly file: string;
  readonly line: number | undefined;
  readonly phase: PackagePhase;
  readonly uninstall: boolean;
  readonly buildOnly: boolean;
  readonly arch: readonly string[];
  readonly notArch: readonly string[];
  readonly when: readonly Condition[];
  readonly installtype: string | undefined;
  /** dib_python_version: only when DIB_PYTHON_VERSION (3 unless set) is this. */
  readonly pythonVersion: string | undefined;
}

const KEYS = new Set(['phase', 'uninstall', 'build-only', 'arch', 'not-arch', 'when', 'installtype', 'dib_python_version']);

export function parsePackageInstalls(text: string, file: string, flavour: string): PackageEntry[] {
  let doc: unknown;
  let lines: Map<string, (number | undefined)[]> = new Map();
  if (file.endsWith('.json')) {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw parseError(e, file, flavour);
    }
  } else {
    const counter = new LineCounter();
    const parsed = YAML.parseDocument(text, { lineCounter: counter, prettyErrors: true });
    const first = parsed.errors[0];
    if (first) throw parseError(first, file, flavour);
    doc = parsed.toJS();
    lines = entryLines(parsed.contents, counter);
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalid(`[${flavour}] ${file}: expected a map of package names`);
  const out: PackageEntry[] = [];
  for (const [name, raw] of Object.entries(doc as Record<string, unknown>)) {
    // As diskimage-builder: an empty value (nothing, "", [], false) is one entry with no options.
    const empty = raw === null || raw === undefined || raw === '' || raw === false || raw === 0 || (Array.isArray(raw) && raw.length === 0);
    const list: unknown[] = empty ? [{}] : Array.isArray(raw) ? raw : [raw];
    list.forEach((item, i) => {
      const at = { file, flavour, line: lines.get(name)?.[Array.isArray(raw) ? i : 0] };
      out.push(parseEntry(name, item ?? {}, at));
    });
  }
  return out;
}

/** Each package name's line, or for a list of entries each entry's line. */
function entryLines(root: unknown, counter: LineCounter): Map<string, (number | undefined)[]> {
  const out = new Map<string, (number | undefined)[]>();
  if (!isMap(root)) return out;
  const lineOf = (n: unknown) => {
    const start = (n as Node | null)?.range?.[0];
    return start === undefined ? undefined : counter.linePos(start).line;
  };
  for (const pair of root.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const name = String(pair.key.value);
    out.set(name, isSeq(pair.value) ? pair.value.items.map(lineOf) : [lineOf(pair.key)]);
  }
  return out;
}

interface Where {
  readonly file: string;
  readonly flavour: string;
  readonly line: number | undefined;
}

/** "[flavour] file:line: name" for messages. */
function culprit(at: Where, name: string): string {
  return `[${at.flavour}] ${at.file}${at.line === undefined ? '' : `:${at.line}`}: ${name}`;
}

function parseEntry(name: string, raw: unknown, at: Where): PackageEntry {
  const where = culprit(at, name);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    // diskimage-builder treats an empty value as no options; anything else is not an entry.
    if (raw !== '') throw invalid(`${where}: expected no value or a map of options (phase, uninstall, build-only, arch, not-arch, when, installtype, dib_python_version)`);
    raw = {};
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw invalid(`${where}: unknown key "${k}"`);
  const phase = (o.phase ?? 'install.d') as PackagePhase;
  if (!PACKAGE_PHASES.includes(phase)) throw invalid(`${where}: phase "${String(o.phase)}" is not one of ${PACKAGE_PHASES.join(', ')}`);
  const arch = words(o.arch);
  const notArch = words(o['not-arch']);
  if (arch.length > 0 && notArch.length > 0) throw invalid(`${where}: both arch and not-arch given: use one of them`);
  return {
    name,
    flavour: at.flavour,
    file: at.file,
    line: at.line,
    phase,
    uninstall: truthy(o.uninstall),
    buildOnly: truthy(o['build-only']),
    arch,
    notArch,
    when: parseWhen(o.when, where),
    installtype: optional(o.installtype),
    pythonVersion: optional(o.dib_python_version),
  };
}

/** A YAML (or JSON) parse error as bad input naming the flavour and file:line:col. */
export function parseError(e: unknown, file: string, flavour: string): Error {
  const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  const msg = ((e as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return invalid(`[${flavour}] ${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${msg}`);
}

function optional(v: unknown): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', 'yes', '1'].includes(v.toLowerCase()));
}

function words(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return String(v)
    .split(/[,\s]+/)
    .filter((w) => w !== '');
}

/**
 * A `when` statement as diskimage-builder reads it: a variable name (word characters), `=` or `!=`, and the
 * rest of the text as the value (spaces around the operator ignored; "VAR=" compares with the empty string).
 */
export function parseCondition(text: string): Condition | undefined {
  const m = /^([\p{L}\p{N}_]+)\s*(=|!=)\s*(.*)/u.exec(text);
  if (!m) return undefined;
  return { text, variable: m[1] as string, op: m[2] as '=' | '!=', value: m[3] as string };
}

function parseWhen(v: unknown, where: string): Condition[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((item) => {
    const c = typeof item === 'string' ? parseCondition(item) : undefined;
    if (!c) throw invalid(`${where}: when: cannot read ${JSON.stringify(item)}`, 'write VAR = value or VAR != value (a list of them means all must hold)');
    return c;
  });
}

/**
 * Whether every `when` statement of an entry holds. Like diskimage-builder, each statement is evaluated (none
 * is skipped because an earlier one is false), and a variable that is not set at all (empty is set) is an
 * error naming the file and the variable: give it a default in an environment.d file.
 */
export function whenHolds(e: PackageEntry, env: Readonly<Record<string, string | undefined>>): boolean {
  const results = e.when.map((c) => {
    const actual = env[c.variable];
    if (actual === undefined) {
      throw invalid(
        `${culprit(e, e.name)}: when "${c.text}": the variable ${c.variable} is not set`,
        `set ${c.variable} (e.g. export a default for it in an environment.d file), as diskimage-builder requires`,
      );
    }
    return c.op === '=' ? actual === c.value : actual !== c.value;
  });
  return results.every((r) => r);
}

/** A flavour's install type, as diskimage-builder's install-types element chooses it. */
export function installTypeOf(flavour: string, env: Readonly<Record<string, string | undefined>>): string {
  return env[`DIB_INSTALLTYPE_${flavour.replace(/-/g, '_')}`] || env.DIB_DEFAULT_INSTALLTYPE || 'source';
}

/** Whether an entry applies to this build: install type, python version, arch and not-arch, then `when`. */
export function applies(e: PackageEntry, arch: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (e.installtype !== undefined && e.installtype !== installTypeOf(e.flavour, env)) return false;
  if (e.pythonVersion !== undefined && e.pythonVersion !== (env.DIB_PYTHON_VERSION || '3')) return false;
  if (!forArch(e, arch)) return false;
  return whenHolds(e, env);
}

/** Whether an entry's `arch`/`not-arch` let it act on this architecture. */
export function forArch(e: PackageEntry, arch: string): boolean {
  return (e.arch.length === 0 || e.arch.includes(arch)) && !e.notArch.includes(arch);
}

export interface PhasePackages {
  readonly install: readonly string[];
  readonly uninstall: readonly string[];
}

/**
 * One install list and one removal list per phase, merged over every flavour's entries as diskimage-builder's
 * package-installs-squash merges them: an entry installs, or (`uninstall`) removes, or (`build-only`) both, in
 * its own phase; nothing cancels anything. So a package one flavour installs and another marks build-only in
 * the same phase is installed and then removed; installed in a later phase, it stays (see phaseSteps).
 */
export function batchPackages(entries: readonly PackageEntry[], arch: string, env: Readonly<Record<string, string | undefined>>): Record<PackagePhase, PhasePackages> {
  const out = Object.fromEntries(PACKAGE_PHASES.map((p) => [p, { install: [] as string[], uninstall: [] as string[] }])) as Record<PackagePhase, { install: string[]; uninstall: string[] }>;
  for (const e of entries.filter((x) => applies(x, arch, env))) {
    const actions = e.buildOnly ? (['install', 'uninstall'] as const) : e.uninstall ? (['uninstall'] as const) : (['install'] as const);
    for (const action of actions) {
      const list = out[e.phase][action];
      if (!list.includes(e.name)) list.push(e.name);
    }
  }
  return out;
}

/**
 * Where a phase's package steps run among its hooks: at the place of diskimage-builder's own package-installs
 * hooks of these names (pre-install.d/10-package-installs … 99-package-uninstalls, install.d/01-… 99-…,
 * post-install.d/00-… 95-…), ordered with the flavours' hooks like any hook.
 */
export const PACKAGE_STEP_AT: Readonly<Record<PackagePhase, { readonly install: string; readonly uninstall: string }>> = {
  'pre-install.d': { install: '10-package-installs', uninstall: '99-package-uninstalls' },
  'install.d': { install: '01-package-installs', uninstall: '99-package-uninstalls' },
  'post-install.d': { install: '00-package-installs', uninstall: '95-package-uninstalls' },
};

export type PhaseStep<H> = { readonly kind: 'hooks'; readonly hooks: readonly H[] } | { readonly kind: 'install' | 'uninstall'; readonly packages: readonly string[] };

/**
 * A package phase as the steps it runs, in order: runs of hooks, with the install and the removal of the
 * phase's packages placed as PACKAGE_STEP_AT says (a package step goes before a hook of the very same name).
 * Empty package lists make no step.
 */
export function phaseSteps<H extends { readonly name: string }>(phase: PackagePhase, hooks: readonly H[], pkgs: PhasePackages): PhaseStep<H>[] {
  const pending = (['install', 'uninstall'] as const)
    .map((kind) => ({ kind, at: PACKAGE_STEP_AT[phase][kind], packages: pkgs[kind] }))
    .filter((p) => p.packages.length > 0);
  const out: PhaseStep<H>[] = [];
  let run: H[] = [];
  const flush = () => {
    if (run.length > 0) out.push({ kind: 'hooks', hooks: run });
    run = [];
  };
  for (const hook of hooks) {
    while (pending[0] && compareHookNames(pending[0].at, hook.name) <= 0) {
      const p = pending.shift() as (typeof pending)[number];
      flush();
      out.push({ kind: p.kind, packages: p.packages });
    }
    run.push(hook);
  }
  flush();
  for (const p of pending) out.push({ kind: p.kind, packages: p.packages });
  return out;
}

export function readPackageInstalls(file: string, flavour: string): PackageEntry[] {
  return parsePackageInstalls(fs.readFileSync(file, 'utf8'), file, flavour);
}
