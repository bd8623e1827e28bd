/**
 * What each cacheable step of a build depends on, as named inputs (input name → digest or value), and
 * the step's key: a digest of its inputs and the key of the step before it. Steps:
 *   root      the base tree and root.d
 *   install   extra-data.d, pre-install.d, install.d, their packages, -p (the package installs: the longest part)
 *   finalise  post-install.d and its packages, image.yaml specs, post-root.d, block-device-size.d, pre-finalise.d,
 *             finalise.d, first-boot.d (an edited post-install.d hook restores the installed tree)
 * cleanup.d, the disk and the outputs always run. Files of the flavours count where they are used: a hook
 * (and the files beside it) in its phase's step, package-installs in install, image.yaml in finalise, everything
 * else (environment.d, bin/, static/, pkg-map, …) and diskimage-builder's shell library when it is staged in root,
 * so a change there invalidates every step.
 * An environment variable counts in a step when a hook file of that step names it; its value is hashed
 * (never stored), and values that hold the work directory's path (TARGET_ROOT, …) do not count. When its
 * value names a host file or directory (DIB_APT_CONF, DIB_DEV_USER_AUTHORIZED_KEYS, …), what is there counts
 * too. What extra-data.d produced, run apart from the build (lib/build/host-probe.ts), counts in install: it
 * is how the host files those hooks read (the user's ~/.ssh keys, …) reach the key.
 * Pure over the files it reads: `kiln plan` and the build compute the same keys.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PHASE_NAMES } from '../flavours/phases.js';
import { shellLibraryDigest } from '../hooks/shell-library.js';
import type { PackagePhase, PhasePackages } from '../packages/installs.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { PHASES, type CacheStepName } from '../flavours/phases.js';

export type { CacheStepName };

export interface CacheStepDef {
  readonly name: CacheStepName;
  readonly title: string;
  /** Its phases, from the phase list (each phase names its step there). */
  readonly phases: readonly string[];
}

const step = (name: CacheStepName, title: string): CacheStepDef => ({ name, title, phases: PHASES.filter((p) => p.cacheStep === name).map((p) => p.name) });

export const CACHE_STEPS: readonly CacheStepDef[] = [
  step('root', 'base tree and root.d'),
  step('install', 'extra-data.d to install.d and packages'),
  step('finalise', 'post-install.d to finalise.d and first-boot.d'),
];

export interface StepInputs {
  readonly step: CacheStepName;
  /** Input name → digest (files, environment) or value (packages, settings). */
  readonly inputs: Readonly<Record<string, string>>;
  readonly key: string;
  /** Nothing of the build runs in this step (no hooks, no packages): nothing to store. */
  readonly empty: boolean;
  /** Why the step can never be cached in this build (e.g. block-device.d acts on the host), if so. */
  readonly uncacheable?: string;
}

export interface InputSources {
  readonly plan: BuildPlan;
  /** The build environment after environment.d (what hooks see). */
  readonly env: Readonly<Record<string, string>>;
  /** The work directory: values holding it are per-build paths, not inputs. */
  readonly workDir: string;
  /** The base tree's key (rootfs.yaml, release, arch, mirrors), or undefined when no flavour declares one. */
  readonly baseKey: string | undefined;
  readonly packages: Readonly<Record<PackagePhase, PhasePackages>>;
  /** -p packages (installed after install.d). */
  readonly extraPackages: readonly string[];
  readonly arch: string;
  readonly release: string;
  /** A digest of kiln itself: its code shapes every step. */
  readonly kiln: string;
  /** What extra-data.d produced when run apart from the build (output name → digest), or why it could not run. */
  readonly extraData?: ExtraDataProbe;
}

export type ExtraDataProbe = { readonly outputs: Readonly<Record<string, string>> } | { readonly failed: string };

/** Variables kiln sets to paths it manages (a search path, the output's name, the image cache): never read as files. */
const NOT_HOST_FILES = new Set(['ELEMENTS_PATH', '_BASE_ELEMENT_DIR', 'IMAGE_NAME', 'DIB_IMAGE_CACHE', 'DIB_PYTHON_EXEC']);

/** Files of a flavour that never shape the tree (documentation, tests, the disk declaration). */
const IGNORED = /^(README[^/]*|[^/]*\.(md|rst)|tests\/.*|disk\.yaml|__pycache__\/.*|\.git[^/]*(\/.*)?)$/;
const IN_INSTALL = new Set(['package-installs.yaml', 'package-installs.json']);

/** Environment variables that describe the caller's session, not the build. */
const VOLATILE = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL', 'TERM', 'COLUMNS', 'LINES', 'PATH', 'TMPDIR', 'TMP', 'TEMP', 'TEMPDIR', 'HOME', 'USER', 'LOGNAME', 'MAIL', 'SHELL', 'HOSTNAME', 'NODE_OPTIONS', 'KILN_NO_CACHE', 'KILN_CACHE_SIZE', 'DIB_DEBUG_TRACE', 'INVOCATION_ID', 'JOURNAL_STREAM', 'LS_COLORS']);
const VOLATILE_PREFIX = /^(SSH_|SUDO_|XDG_|JEST_|npm_|DBUS_)/;

export function computeStepInputs(src: InputSources): StepInputs[] {
  const files = flavourFiles(src.plan);
  const candidates = Object.entries(src.env).filter(([k, v]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && !VOLATILE.has(k) && !VOLATILE_PREFIX.test(k) && !v.includes(src.workDir));
  const out: StepInputs[] = [];
  let prev = '';
  for (const def of CACHE_STEPS) {
    const inputs: Record<string, string> = {};
    if (prev) inputs[`step ${out[out.length - 1]?.step}`] = prev;
    const mine = files.filter((f) => f.step === def.name);
    for (const f of mine) inputs[`${f.flavour}/${f.rel}`] = f.digest;
    const texts = mine.filter((f) => f.hookText).map((f) => f.text);
    for (const [k, v] of candidates) {
      if (!texts.some((t) => mentions(t, k))) continue;
      inputs[`env ${k}`] = digest(v);
      const content = NOT_HOST_FILES.has(k) ? undefined : hostPathDigest(v);
      if (content !== undefined) inputs[`file ${k}`] = content;
    }
    if (def.name === 'install' && src.extraData && 'outputs' in src.extraData) Object.assign(inputs, src.extraData.outputs);
    if (def.name === 'root') {
      inputs.kiln = src.kiln;
      inputs.flavours = src.plan.flavours.map((f) => f.name).join(' ');
      inputs['base tree'] = src.baseKey ?? 'none';
      inputs.arch = src.arch;
      inputs.release = src.release;
      if (src.plan.shellLibrary) inputs['diskimage-builder lib'] = shellLibraryDigest(src.plan.shellLibrary);
    }
    let work = def.phases.some((p) => (src.plan.phases.find((x) => x.name === p)?.hooks.length ?? 0) > 0);
    for (const p of def.phases) {
      const pk = src.packages[p as PackagePhase];
      if (!pk || pk.install.length + pk.uninstall.length === 0) continue;
      inputs[`packages ${p}`] = [...pk.install.map((n) => `+${n}`), ...pk.uninstall.map((n) => `-${n}`)].join(' ');
      work = true;
    }
    if (def.name === 'install' && src.extraPackages.length > 0) {
      inputs['packages -p'] = [...src.extraPackages].sort().join(' ');
      work = true;
    }
    if (def.name === 'finalise' && src.plan.flavours.some((f) => f.files.imageSpec)) work = true;
    for (const p of def.phases) {
      const planned = src.plan.phases.find((x) => x.name === p);
      if (planned && !planned.runs) inputs[`skipped ${p}`] = 'yes';
    }
    const key = digest(JSON.stringify(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b))));
    const blockDevice = src.plan.phases.find((p) => p.name === 'block-device.d');
    const probeFailed = src.extraData && 'failed' in src.extraData ? src.extraData.failed : undefined;
    const uncacheable =
      def.name !== 'root' && probeFailed
        ? `extra-data.d could not run apart from the tree, so what it reads from the host cannot be keyed (${probeFailed})`
        : def.name === 'finalise' && blockDevice?.runs && blockDevice.hooks.length > 0
          ? 'block-device.d hooks act on the host'
          : undefined;
    out.push({ step: def.name, inputs, key, empty: !work, ...(uncacheable ? { uncacheable } : {}) });
    prev = key;
  }
  return out;
}

/** Why a step's inputs differ from an earlier build's, one line per changed input. */
export function explainChange(before: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(now)) {
    const was = before[k];
    if (was === v) continue;
    if (k.startsWith('step ')) out.push(`follows ${k.slice(5)}, which changed`);
    else if (k.startsWith('env ')) out.push(`environment ${k.slice(4)} ${was === undefined ? 'set (a hook reads it)' : 'changed'}`);
    else if (k.startsWith('file ')) out.push(`the host file named by ${k.slice(5)} ${was === undefined ? 'appeared' : 'changed'}`);
    else if (k.startsWith(EXTRA_DATA_OUTPUT)) out.push(`extra-data.d output ${was === undefined ? 'added' : 'changed'}: ${k.slice(EXTRA_DATA_OUTPUT.length)}`);
    else if (k.startsWith('packages ')) out.push(`package list of ${k.slice(9)} ${was === undefined ? `added: ${v}` : `changed: ${listDiff(was, v)}`}`);
    else if (k === 'flavours') out.push(`flavours changed: ${listDiff(was ?? '', v)}`);
    else if (k.startsWith('skipped ')) out.push(`${k.slice(8)} does not run now`);
    else if (['kiln', 'base tree', 'arch', 'release'].includes(k)) out.push(`${k} changed${k === 'arch' || k === 'release' ? ` (${was ?? '-'} → ${v})` : ''}`);
    else out.push(`${k} ${was === undefined ? 'added' : 'changed'}`);
  }
  for (const k of Object.keys(before)) {
    if (k in now) continue;
    if (k.startsWith('env ')) out.push(`environment ${k.slice(4)} unset`);
    else if (k.startsWith('file ')) out.push(`the host file named by ${k.slice(5)} is gone`);
    else if (k.startsWith(EXTRA_DATA_OUTPUT)) out.push(`extra-data.d output gone: ${k.slice(EXTRA_DATA_OUTPUT.length)}`);
    else if (k.startsWith('packages ')) out.push(`package list of ${k.slice(9)} emptied`);
    else if (k.startsWith('skipped ')) out.push(`${k.slice(8)} runs now`);
    else if (!k.startsWith('step ')) out.push(`${k} removed`);
  }
  // What changed first matters most: the step before, then the files, then the rest.
  return out.sort((a, b) => rank(a) - rank(b));
}

/** The prefix of an extra-data.d product's input name (`extra-data.d output: local-config/authorized_keys`). */
export const EXTRA_DATA_OUTPUT = 'extra-data.d output: ';

function rank(line: string): number {
  return line.startsWith('follows ') ? 0 : line.startsWith('environment ') || line.startsWith('package ') ? 2 : 1;
}

/**
 * A digest of what an absolute host path names (a file's bytes; a directory's names, modes, link targets and
 * file bytes, recursively), or undefined when the value is not such a path. /proc, /sys and /dev never count.
 */
export function hostPathDigest(value: string): string | undefined {
  if (!value.startsWith('/') || value.includes('\n') || /^\/(proc|sys|dev)(\/|$)/.test(value)) return undefined;
  let st: fs.Stats;
  try {
    st = fs.statSync(value);
  } catch {
    return undefined;
  }
  if (st.isFile()) return digest(fs.readFileSync(value));
  // A directory counts when it is specific (two levels or more): never the whole of /, /etc or /home.
  if (!st.isDirectory() || path.resolve(value).split('/').filter(Boolean).length < 2) return undefined;
  return treeDigest(value);
}

/** A digest of a directory tree: every entry's path and entryDigest (a link's target, not what it names). */
export function treeDigest(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const rel of walkAll(dir, '')) h.update(`${rel}\0${entryDigest(path.join(dir, rel)) ?? 'gone'}\0`);
  return h.digest('hex').slice(0, 32);
}

/** Type, mode, owner and content of one entry (a directory's own attributes only), or undefined if absent. */
export function entryDigest(p: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return undefined;
  }
  const head = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} `;
  if (st.isSymbolicLink()) return digest(`${head}link:${fs.readlinkSync(p)}`);
  if (st.isDirectory()) return digest(`${head}dir`);
  if (st.isFile()) return digest(Buffer.concat([Buffer.from(`${head}file:`), fs.readFileSync(p)]));
  return digest(`${head}special:${st.rdev}`);
}

/** Every entry below dir (directories too), sorted, relative. */
export function walkAll(dir: string, rel: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...walkAll(dir, r));
  }
  return out;
}

function listDiff(was: string, now: string): string {
  const a = new Set(was.split(' ').filter(Boolean));
  const b = new Set(now.split(' ').filter(Boolean));
  const plus = [...b].filter((x) => !a.has(x)).map((x) => `+${x.replace(/^[+-]/, '')}`);
  const minus = [...a].filter((x) => !b.has(x)).map((x) => `-${x.replace(/^[+-]/, '')}`);
  return [...plus, ...minus].join(' ') || 'order';
}

interface FlavourFile {
  readonly flavour: string;
  readonly rel: string;
  readonly step: CacheStepName;
  readonly digest: string;
  /** Read by hooks: searched for environment variable names. */
  readonly hookText: boolean;
  readonly text: string;
}

/** Every file of the build's flavours that can shape the tree, with the step it counts in. */
function flavourFiles(plan: BuildPlan): FlavourFile[] {
  const phaseStep = new Map<string, CacheStepName>();
  for (const s of CACHE_STEPS) for (const p of s.phases) phaseStep.set(p, s.name);
  const out: FlavourFile[] = [];
  for (const f of plan.flavours) {
    if (!f.dir) continue;
    for (const rel of walk(f.dir, '')) {
      if (IGNORED.test(rel)) continue;
      const top = rel.split('/')[0] as string;
      const phase = phaseStep.get(top);
      // cleanup.d runs on every build (and first-boot.d's files are copied in the finalise step).
      if (!phase && PHASE_NAMES.includes(top)) continue;
      // image.yaml specs are applied after post-install.d, in finalise.
      const step: CacheStepName = phase ?? (IN_INSTALL.has(rel) ? 'install' : rel === 'image.yaml' ? 'finalise' : 'root');
      const abs = path.join(f.dir, rel);
      const st = fs.lstatSync(abs);
      const body = st.isSymbolicLink() ? Buffer.from(`link:${fs.readlinkSync(abs)}`) : fs.readFileSync(abs);
      const d = digest(Buffer.concat([Buffer.from(`${st.mode & 0o111 ? 'x' : '-'}:`), body]));
      const text = body.length < 1_000_000 ? body.toString('latin1') : '';
      out.push({ flavour: f.name, rel, step, digest: d, hookText: phase !== undefined || top === 'bin', text });
    }
  }
  return out;
}

/** Every file (or link) below dir, sorted, relative. */
function walk(dir: string, rel: string): string[] {
  return walkAll(dir, rel).filter((r) => !fs.lstatSync(path.join(dir, r)).isDirectory());
}

function mentions(text: string, name: string): boolean {
  let i = text.indexOf(name);
  while (i >= 0) {
    const before = i === 0 ? '' : (text[i - 1] as string);
    const after = text[i + name.length] ?? '';
    if (!/[A-Za-z0-9_]/.test(before) && !/[A-Za-z0-9_]/.test(after)) return true;
    i = text.indexOf(name, i + 1);
  }
  return false;
}

export function digest(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex').slice(0, 32);
}

const codeDigests = new Map<string, string>();

/** kiln's code that never shapes a tree (the command line, booting, publishing, the disk and outputs). */
const NOT_TREE_CODE = /^(cli|boot|publish|output|disk|inspect|log|cache|registry)\//;

/** A digest of kiln's own code (dist/lib) that shapes trees: a new kiln invalidates every step. */
export function kilnDigest(): string {
  return codeDigest('tree', (rel) => !NOT_TREE_CODE.test(rel));
}

/** A digest of all of kiln's code (dist/lib): what outputs reused from the output cache depend on. */
export function kilnCodeDigest(): string {
  return codeDigest('all', () => true);
}

function codeDigest(name: string, include: (rel: string) => boolean): string {
  const memo = codeDigests.get(name);
  if (memo) return memo;
  const lib = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const h = crypto.createHash('sha256');
  for (const rel of walk(lib, '')) if (rel.endsWith('.js') && include(rel)) h.update(rel).update(fs.readFileSync(path.join(lib, rel)));
  const d = h.digest('hex').slice(0, 32);
  codeDigests.set(name, d);
  return d;
}
