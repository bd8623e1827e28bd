/**
 * Stages the plan into TMP_HOOKS_PATH, laid out as diskimage-builder lays out its hooks directory, so
 * elements that find their files relative to their hook (`$(dirname $0)/../static`) work unchanged:
 *   <phase>/<name>     every planned hook, and the data files beside hooks in the flavours' phase dirs
 *   environment.d/     every flavour's environment files
 *   bin/               every flavour's bin/ (on PATH for hooks)
 *   static/, init-scripts/, any other directory of a flavour (modprobe.d/, …): merged, as diskimage-builder
 *                      merges its elements (install-static and dib-init-system install the first two)
 *   helpers/           kiln's dib-run-parts and get_image_element_array (on PATH for hooks, never in the image)
 *   image-elements     "name<TAB>dir" of every flavour, for get_image_element_array
 *   lib/               diskimage-builder's shell library ($_LIB): its own files when it is on the search path,
 *                      else kiln's (lib/hooks/shell-library.ts)
 *   pkg-map/<flavour>, svc-map   the name maps resolved for the build's distribution (stageNameMaps)
 * The staged copy is what runs, so a build is not affected by edits made while it runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PHASE_NAMES } from '../flavours/phases.js';
import { HELPERS } from '../hooks/helpers.js';
import { shellLibrary } from '../hooks/shell-library.js';
import { mapFileText } from '../packages/name-maps.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { pkgMaps, svcMap } from './packages.js';

/** A flavour's directories staged by their own rules, or kiln's own (specs/), rather than merged as trees. */
const NOT_TREES = new Set<string>([...PHASE_NAMES, 'environment.d', 'bin', 'specs', 'helpers', 'pkg-map', 'svc-map', 'tests', '__pycache__']);

export function stageHooks(plan: BuildPlan, hooksDir: string): { envFiles: string[] } {
  fs.mkdirSync(hooksDir, { recursive: true });
  const planned = new Set<string>();
  for (const phase of plan.phases) {
    if (phase.hooks.length === 0) continue;
    const dir = path.join(hooksDir, phase.name);
    fs.mkdirSync(dir, { recursive: true });
    for (const hook of phase.hooks) {
      copyKeepingMode(hook.path, path.join(dir, hook.name));
      planned.add(`${phase.name}/${hook.name}`);
    }
  }
  // Files beside the hooks that are not hooks themselves (a unit file, a udev rule): later flavours win.
  for (const f of plan.flavours) {
    for (const phase of PHASE_NAMES) {
      for (const name of listFiles(path.join(f.dir, phase))) {
        if (planned.has(`${phase}/${name}`)) continue;
        fs.mkdirSync(path.join(hooksDir, phase), { recursive: true });
        copyKeepingMode(path.join(f.dir, phase, name), path.join(hooksDir, phase, name));
      }
    }
  }
  const envDir = path.join(hooksDir, 'environment.d');
  fs.mkdirSync(envDir, { recursive: true });
  const envFiles: string[] = [];
  for (const e of plan.environment) {
    const name = path.basename(e.path);
    fs.copyFileSync(e.path, path.join(envDir, name));
    if (!envFiles.includes(name)) envFiles.push(name);
  }
  const binDir = path.join(hooksDir, 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  for (const f of plan.flavours) {
    for (const name of listFiles(path.join(f.dir, 'bin'))) copyKeepingMode(path.join(f.dir, 'bin', name), path.join(binDir, name));
    for (const tree of listDirs(f.dir)) {
      if (NOT_TREES.has(tree) || tree.startsWith('.')) continue;
      fs.cpSync(path.join(f.dir, tree), path.join(hooksDir, tree), { recursive: true, force: true, verbatimSymlinks: true });
    }
  }
  const helpers = path.join(hooksDir, 'helpers');
  fs.mkdirSync(helpers, { recursive: true });
  for (const [name, text] of Object.entries(HELPERS)) fs.writeFileSync(path.join(helpers, name), text, { mode: 0o755 });
  const lib = path.join(hooksDir, 'lib');
  fs.mkdirSync(lib, { recursive: true });
  for (const [name, text] of Object.entries(shellLibrary(plan.shellLibrary))) fs.writeFileSync(path.join(lib, name), text, { mode: name === 'dib-run-parts' ? 0o755 : 0o644 });
  fs.writeFileSync(path.join(hooksDir, 'image-elements'), plan.flavours.map((f) => `${f.name}\t${f.dir}\n`).join(''));
  return { envFiles };
}

/** Writes the flavours' pkg-map and svc-map files resolved for env's DISTRO_NAME and DIB_RELEASE. */
export function stageNameMaps(plan: BuildPlan, hooksDir: string, env: Readonly<Record<string, string>>): void {
  const dir = path.join(hooksDir, 'pkg-map');
  fs.mkdirSync(dir, { recursive: true });
  for (const [flavour, map] of pkgMaps(plan, env)) fs.writeFileSync(path.join(dir, flavour), mapFileText(map));
  const svc = svcMap(plan, env.DISTRO_NAME ?? '');
  if (svc.size > 0) fs.writeFileSync(path.join(hooksDir, 'svc-map'), mapFileText(svc));
}

function copyKeepingMode(src: string, dest: string): void {
  fs.copyFileSync(src, dest);
  fs.chmodSync(dest, fs.statSync(src).mode & 0o7777);
}

function listFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name), { throwIfNoEntry: false })?.isFile()))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function listDirs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}
