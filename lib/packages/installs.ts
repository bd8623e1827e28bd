/**
 * package-installs.yaml / .json, as diskimage-builder's package-installs element reads it:
 *
 *   name:                      # installed in install.d
 *   other:
 *     phase: pre-install.d     # which chroot phase
 *     uninstall: true          # removed instead of installed
 *     build-only: true         # installed, then removed at the end of post-install.d
 *     arch: amd64, arm64       # only on these architectures
 *     not-arch: i386           # never on these
 *     when: DIB_FOO = bar      # only when the condition(s) hold (=, !=); a list means all
 *     installtype: package     # only when the flavour's install type (DIB_INSTALLTYPE_<flavour>,
 *                              # else DIB_DEFAULT_INSTALLTYPE, else "source") is this one
 *
 * Parsing and filtering are pure; the result is one batched list per phase and action.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { invalid } from '../errors/index.js';

export type PackagePhase = 'pre-install.d' | 'install.d' | 'post-install.d';
const PHASES: readonly PackagePhase[] = ['pre-install.d', 'install.d', 'post-install.d'];

export interface PackageEntry {
  readonly name: string;
  readonly flavour: string;
  readonly phase: PackagePhase;
  readonly uninstall: boolean;
  readonly buildOnly: boolean;
  readonly arch: readonly string[];
  readonly notArch: readonly string[];
  readonly when: readonly string[];
  readonly installtype: string | undefined;
  /** dib_python_version: only when DIB_PYTHON_VERSION (3 unless set) is this. */
  readonly pythonVersion: string | undefined;
}

const KEYS = new Set(['phase', 'uninstall', 'build-only', 'arch', 'not-arch', 'when', 'installtype', 'dib_python_version']);

export function parsePackageInstalls(text: string, file: string, flavour: string): PackageEntry[] {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw parseError(e, file, flavour);
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalid(`[${flavour}] ${file}: expected a map of package names`);
  const out: PackageEntry[] = [];
  for (const [name, raw] of Object.entries(doc as Record<string, unknown>)) {
    const list = Array.isArray(raw) ? raw : [raw ?? {}];
    for (const item of list) out.push(parseEntry(name, (item ?? {}) as Record<string, unknown>, file, flavour));
  }
  return out;
}

function parseEntry(name: string, o: Record<string, unknown>, file: string, flavour: string): PackageEntry {
  const where = `[${flavour}] ${file}: ${name}`;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw invalid(`${where}: unknown key "${k}"`);
  const phase = (o.phase ?? 'install.d') as PackagePhase;
  if (!PHASES.includes(phase)) throw invalid(`${where}: phase "${String(o.phase)}" is not one of ${PHASES.join(', ')}`);
  return {
    name,
    flavour,
    phase,
    uninstall: truthy(o.uninstall),
    buildOnly: truthy(o['build-only']),
    arch: words(o.arch),
    notArch: words(o['not-arch']),
    when: Array.isArray(o.when) ? o.when.map(String) : o.when === undefined ? [] : [String(o.when)],
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

/** Evaluates "VAR = value" / "VAR != value" against the environment (unset counts as empty). */
export function conditionHolds(cond: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)\s*(.*?)\s*$/.exec(cond);
  if (!m) throw invalid(`package-installs: cannot read condition "${cond}" (use VAR = value or VAR != value)`);
  const actual = env[m[1] as string] ?? '';
  return m[2] === '=' ? actual === m[3] : actual !== m[3];
}

/** A flavour's install type, as diskimage-builder's install-types element chooses it. */
export function installTypeOf(flavour: string, env: Readonly<Record<string, string | undefined>>): string {
  return env[`DIB_INSTALLTYPE_${flavour.replace(/-/g, '_')}`] || env.DIB_DEFAULT_INSTALLTYPE || 'source';
}

export function applies(e: PackageEntry, arch: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (e.installtype !== undefined && e.installtype !== installTypeOf(e.flavour, env)) return false;
  if (e.pythonVersion !== undefined && e.pythonVersion !== (env.DIB_PYTHON_VERSION || '3')) return false;
  if (e.arch.length > 0 && !e.arch.includes(arch)) return false;
  if (e.notArch.includes(arch)) return false;
  return e.when.every((c) => conditionHolds(c, env));
}

export interface PhasePackages {
  readonly install: readonly string[];
  readonly uninstall: readonly string[];
}

/** One install list and one uninstall list per phase; build-only packages leave after post-install.d. */
export function batchPackages(entries: readonly PackageEntry[], arch: string, env: Readonly<Record<string, string | undefined>>): Record<PackagePhase, PhasePackages> {
  const out = Object.fromEntries(PHASES.map((p) => [p, { install: [] as string[], uninstall: [] as string[] }])) as Record<PackagePhase, { install: string[]; uninstall: string[] }>;
  for (const e of entries.filter((x) => applies(x, arch, env))) {
    const target = e.uninstall ? out[e.phase].uninstall : out[e.phase].install;
    if (!target.includes(e.name)) target.push(e.name);
    if (e.buildOnly && !out['post-install.d'].uninstall.includes(e.name)) out['post-install.d'].uninstall.push(e.name);
  }
  return out;
}

export function readPackageInstalls(file: string, flavour: string): PackageEntry[] {
  return parsePackageInstalls(fs.readFileSync(file, 'utf8'), file, flavour);
}
