import { Command } from 'commander';
import type { BuildKind } from '../../plan/build-plan.js';
import { addBuildOptions } from '../options.js';
import { buildPublishOptions } from './publish.js';

/** `kiln build` / `disk-image-create` and `kiln ramdisk` / `ramdisk-image-create`; the action loads lib/cli/actions/build.ts when it runs. */
export function buildCommand(name: string, kind: BuildKind): Command {
  const what = kind === 'disk' ? 'build a disk image from flavours' : 'build a kernel + initramfs pair from flavours';
  const cmd = new Command(name).description(what).argument('<flavours...>', 'flavours to build');
  addBuildOptions(cmd);
  const publishing = kind === 'disk' ? buildPublishOptions() : [];
  for (const o of publishing) cmd.addOption(o);
  cmd.action(async (flavours: string[]) => (await import('../actions/build.js')).build(cmd, flavours, kind, publishing));
  return cmd;
}
