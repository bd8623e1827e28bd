/** `kiln build` / `kiln ramdisk`: what runs once the options are parsed (loaded only then). */
import type { Command, Option } from 'commander';
import { ExitWith, invalid } from '../../errors/index.js';
import { runIsolated, shouldIsolate } from '../../namespace/index.js';
import { makeBuildPlan, type BuildKind } from '../../plan/build-plan.js';
import { configFromCommand } from '../config.js';
import { setDebug } from '../state.js';
import { printPlan } from './plan.js';
import { runBuild } from '../../build/run.js';
import { verifyBuild } from '../../build/verify.js';
import { needsUnprivilegedPath, runUnprivileged } from '../../privilege/index.js';
import { withoutPublishArgs } from '../commands/publish.js';
import { publishSettings, runPublish } from './publish.js';
import type { BuildPlan } from '../../plan/build-plan.js';

/** The action of `kiln build` and its kin; `publishing` are the --publish options the command has (none for a ramdisk). */
export async function build(cmd: Command, flavours: string[], kind: BuildKind, publishing: readonly Option[]): Promise<void> {
  const config = configFromCommand(cmd);
  setDebug(config.settings.debug);
  const plan = makeBuildPlan(config, flavours, kind);
  const flags = cmd.opts<Record<string, unknown>>();
  const given = publishing.slice(1).find((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli');
  if (!flags.publish && given) throw invalid(`${given.long} needs --publish`);
  // Checked before anything is built: a bad cloud or property must not cost a build.
  const pub = flags.publish ? { settings: publishSettings(flags), file: publishedOutput(plan) } : undefined;
  if (config.settings.dryRun) {
    printPlan(plan, config.settings.json);
    return;
  }
  // The privileged or namespaced re-run only builds: credentials never enter it; this process publishes.
  const argv = withoutPublishArgs(process.argv.slice(2), publishing);
  if (needsUnprivilegedPath()) await exitUnlessOk(runUnprivileged(process.argv[1] as string, argv));
  else if (await shouldIsolate()) await exitUnlessOk(runIsolated([process.argv[1] as string, ...argv]));
  else {
    await runBuild(config, plan);
    if (config.settings.verify) await verifyBuild(config, flavours, kind);
  }
  if (pub) await runPublish(pub.file, flags.publishName as string | undefined, pub.settings);
}

async function exitUnlessOk(code: Promise<number>): Promise<void> {
  const c = await code;
  if (c !== 0) throw new ExitWith(c);
}

/** The output --publish uploads: the first disk image, qcow2 preferred. */
function publishedOutput(plan: BuildPlan): string {
  const disks = plan.outputs.filter((o) => ['qcow2', 'raw', 'vhd', 'vmdk'].includes(o.format));
  const pick = disks.find((o) => o.format === 'qcow2') ?? disks[0];
  if (!pick) throw invalid(`--publish needs a disk image output, but this build makes ${plan.outputs.map((o) => o.format).join(', ')}`, 'add -t qcow2 (or raw, vhd, vmdk)');
  return pick.path;
}

