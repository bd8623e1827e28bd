import { Command } from 'commander';
import { addBuildOptions } from '../options.js';

/** `kiln plan`; the action loads lib/cli/actions/plan.ts when it runs. */
export function planCommand(): Command {
  const cmd = new Command('plan')
    .description('resolve flavours and print the build plan; needs no root, changes nothing')
    .argument('<flavours...>', 'flavours to build')
    .option('--ramdisk', 'plan a ramdisk build (kernel + initramfs outputs)');
  addBuildOptions(cmd);
  cmd.action(async (flavours: string[]) => (await import('../actions/plan.js')).planAction(cmd, flavours));
  return cmd;
}
