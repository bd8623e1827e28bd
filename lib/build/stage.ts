/**
 * Stages the plan's hooks into TMP_HOOKS_PATH: <phase>/<name> for every planned hook,
 * environment.d/ with every flavour's environment files, bin/ with every flavour's bin/ files.
 * The staged copy is what runs, so a build is not affected by edits made while it runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildPlan } from '../plan/build-plan.js';

export function stageHooks(plan: BuildPlan, hooksDir: string): { envFiles: string[] } {
  fs.mkdirSync(hooksDir, { recursive: true });
  for (const phase of plan.phases) {
    if (phase.hooks.length === 0) continue;
    const dir = path.join(hooksDir, phase.name);
    fs.mkdirSync(dir, { recursive: true });
    for (const hook of phase.hooks) fs.copyFileSync(hook.path, path.join(dir, hook.name));
    for (const hook of phase.hooks) fs.chmodSync(path.join(dir, hook.name), fs.statSync(hook.path).mode & 0o7777);
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
    const src = path.join(f.dir, 'bin');
    if (!fs.existsSync(src)) continue;
    for (const name of fs.readdirSync(src)) {
      fs.copyFileSync(path.join(src, name), path.join(binDir, name));
      fs.chmodSync(path.join(binDir, name), fs.statSync(path.join(src, name)).mode & 0o7777);
    }
  }
  return { envFiles };
}
