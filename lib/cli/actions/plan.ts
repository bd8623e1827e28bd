/** `kiln plan`: what runs once the options are parsed (loaded only then). */
import type { Command } from 'commander';
import { makeBuildPlan, type BuildKind } from '../../plan/build-plan.js';
import { renderPlan } from '../../plan/render.js';
import { configFromCommand } from '../config.js';
import { setDebug } from '../state.js';
import { planOutlook, statusLine } from '../../build/cache-step.js';
import { memoDir, memoOutlook } from '../../build/memo.js';
import { renderSteps } from '../../plan/steps.js';
import { StepCache } from '../../cache/store.js';
import { refText } from '../../registry/ref.js';
import { Logger } from '../../log/index.js';
import { resolveBuildRelease } from '../../build/base-step.js';

/** `kiln plan`'s action. */
export async function planAction(cmd: Command, flavours: string[]): Promise<void> {
  const config = configFromCommand(cmd);
  setDebug(config.settings.debug);
  const kind: BuildKind = cmd.opts<{ ramdisk?: boolean }>().ramdisk ? 'ramdisk' : 'disk';
  const plan = makeBuildPlan(config, flavours, kind);
  const quiet = new Logger({ json: false, quiet: true });
  // The release as a build would resolve it (a suite name's codename from the mirror); unreadable: as given.
  const resolved = await resolveBuildRelease(config, plan, quiet, { record: false }).catch(() => config);
  const { packages, steps, cache } = await planOutlook(resolved, plan, quiet);
  // The plan reads no registry: the build looks the steps that miss here up there.
  const s = config.settings;
  const registry = s.cacheRegistry && s.cache ? { registry: refText(s.cacheRegistry), mode: s.cacheRegistryMode } : undefined;
  if (config.settings.json) {
    const shown = typeof cache === 'string' ? { error: cache } : cache.map(({ inputs: _i, ...rest }) => rest);
    process.stdout.write(`${JSON.stringify({ ...plan, ...(packages ? { packages } : {}), ...(steps ? { steps } : {}), cache: shown, ...(registry ? { cacheRegistry: registry } : {}) }, null, 2)}\n`);
    return;
  }
  const lines = typeof cache === 'string' ? [`  unknown: ${cache}`] : cache.map((c) => `  ${statusLine(c).replace(/^cache /, '')}`);
  // Work memoised inside a step (the initramfs): not part of any key, decided by its inputs' digest when the hook runs.
  const memo = s.cache ? memoOutlook(plan.phases, s.imageCache) : { users: [], entries: {} };
  for (const u of memo.users) {
    const held = Object.entries(memo.entries).map(([k, n]) => `${n} ${k}`).join(', ') || 'empty';
    lines.push(`  memo: ${u} reuses its work when a digest of its inputs in the tree matches an entry (decided when it runs; ${memoDir(s.imageCache)}: ${held})`);
  }
  const order = steps ? `Steps, in order:\n${renderSteps(steps).join('\n')}\n` : '';
  process.stdout.write(`${renderPlan(plan)}\n${order}Step cache (${config.settings.cache ? StepCache.under(config.settings.imageCache).dir : 'off: --no-cache'}${registry ? `; misses looked up in the registry ${registry.registry}, ${registry.mode}` : ''}):\n${lines.join('\n')}\n`);
}

export function printPlan(plan: ReturnType<typeof makeBuildPlan>, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
}
