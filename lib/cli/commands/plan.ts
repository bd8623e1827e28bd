import { Command } from 'commander';
import { makeBuildPlan, type BuildKind } from '../../plan/build-plan.js';
import { renderPlan } from '../../plan/render.js';
import { addBuildOptions, configFromCommand } from '../options.js';
import { setDebug } from '../state.js';
import { cacheOutlook, statusLine, type StepStatus } from '../../build/cache-step.js';
import { StepCache } from '../../cache/store.js';
import { Logger } from '../../log/index.js';

export function planCommand(): Command {
  const cmd = new Command('plan')
    .description('resolve flavours and print the build plan; needs no root, changes nothing')
    .argument('<flavours...>', 'flavours to build')
    .option('--ramdisk', 'plan a ramdisk build (kernel + initramfs outputs)');
  addBuildOptions(cmd);
  cmd.action(async (flavours: string[]) => {
    const config = configFromCommand(cmd);
    setDebug(config.settings.debug);
    const kind: BuildKind = cmd.opts<{ ramdisk?: boolean }>().ramdisk ? 'ramdisk' : 'disk';
    const plan = makeBuildPlan(config, flavours, kind);
    let cache: StepStatus[] | string;
    try {
      cache = await cacheOutlook(config, plan, new Logger({ json: false, quiet: true }));
    } catch (e) {
      cache = (e as Error).message;
    }
    if (config.settings.json) {
      process.stdout.write(`${JSON.stringify({ ...plan, cache: typeof cache === 'string' ? { error: cache } : cache.map(({ inputs: _i, ...rest }) => rest) }, null, 2)}\n`);
      return;
    }
    const lines = typeof cache === 'string' ? [`  unknown: ${cache}`] : cache.map((c) => `  ${statusLine(c).replace(/^cache /, '')}`);
    process.stdout.write(`${renderPlan(plan)}\nStep cache (${config.settings.cache ? StepCache.under(config.settings.imageCache).dir : 'off: --no-cache'}):\n${lines.join('\n')}\n`);
  });
  return cmd;
}

export function printPlan(plan: ReturnType<typeof makeBuildPlan>, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
}
