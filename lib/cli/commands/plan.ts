import { Command } from 'commander';
import { makeBuildPlan, type BuildKind } from '../../plan/build-plan.js';
import { renderPlan } from '../../plan/render.js';
import { addBuildOptions, configFromCommand } from '../options.js';
import { setDebug } from '../state.js';

export function planCommand(): Command {
  const cmd = new Command('plan')
    .description('resolve flavours and print the build plan; needs no root, changes nothing')
    .argument('<flavours...>', 'flavours to build')
    .option('--ramdisk', 'plan a ramdisk build (kernel + initramfs outputs)');
  addBuildOptions(cmd);
  cmd.action((flavours: string[]) => {
    const config = configFromCommand(cmd);
    setDebug(config.settings.debug);
    const kind: BuildKind = cmd.opts<{ ramdisk?: boolean }>().ramdisk ? 'ramdisk' : 'disk';
    printPlan(makeBuildPlan(config, flavours, kind), config.settings.json);
  });
  return cmd;
}

export function printPlan(plan: ReturnType<typeof makeBuildPlan>, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
}
