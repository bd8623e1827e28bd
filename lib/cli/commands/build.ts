import { Command } from 'commander';
import { ExitWith, invalid } from '../../errors/index.js';
import { runIsolated, shouldIsolate } from '../../namespace/index.js';
import { makeBuildPlan, type BuildKind } from '../../plan/build-plan.js';
import { addBuildOptions, configFromCommand } from '../options.js';
import { setDebug } from '../state.js';
import { printPlan } from './plan.js';
import { runBuild } from '../../build/run.js';
import { isRoot, runThroughSudo } from '../../privilege/index.js';

/** `kiln build` / `disk-image-create` and `kiln ramdisk` / `ramdisk-image-create`. */
export function buildCommand(name: string, kind: BuildKind): Command {
  const what = kind === 'disk' ? 'build a disk image from flavours' : 'build a kernel + initramfs pair from flavours';
  const cmd = new Command(name).description(what).argument('<flavours...>', 'flavours to build');
  addBuildOptions(cmd);
  cmd.action(async (flavours: string[]) => {
    const config = configFromCommand(cmd);
    setDebug(config.settings.debug);
    const plan = makeBuildPlan(config, flavours, kind);
    if (config.settings.dryRun) {
      printPlan(plan, config.settings.json);
      return;
    }
    if (!isRoot()) throw new ExitWith(await runThroughSudo(process.argv[1] as string, process.argv.slice(2)));
    if (await shouldIsolate()) throw new ExitWith(await runIsolated(process.argv.slice(1)));
    await runBuild(config, plan);
  });
  return cmd;
}

/** A capability whose engine arrives with a later issue: the command parses, validates and says so. */
export function notYet(what: string, issue: string) {
  return invalid(`${what} is not available in this version of kiln yet (planned: "${issue}")`);
}
