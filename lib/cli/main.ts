import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeOf, formatError } from '../errors/index.js';
import { buildCommand } from './commands/build.js';
import { flavoursCommand } from './commands/flavours.js';
import { bootCommand } from './commands/boot.js';
import { packCommand, prepareSpecHelp } from './commands/pack.js';
import { getKernelCommand } from './commands/get-kernel.js';
import { planCommand } from './commands/plan.js';
import { publishCommand } from './commands/publish.js';
import { cacheCommand } from './commands/cache.js';
import { installCommand } from './commands/install.js';
import { isDebug } from './state.js';
import { KILN_VERSION } from '../version.js';

export type Entry = 'kiln' | 'disk-image-create' | 'ramdisk-image-create' | 'disk-image-get-kernel' | 'image-pack';


/**
 * The command tree for an entry point: `kiln` with subcommands, or one alias with diskimage-builder's spelling.
 * Building it loads only the definitions (lib/cli/commands): each action loads its implementation when it runs.
 */
export function program(entry: Entry): Command {
  switch (entry) {
    case 'kiln': {
      const root = new Command('kiln')
        .description('build disk images from flavours, check them against specs, and prove they boot')
        .version(KILN_VERSION);
      root.addCommand(buildCommand('build', 'disk'));
      root.addCommand(buildCommand('ramdisk', 'ramdisk'));
      root.addCommand(getKernelCommand('get-kernel'));
      root.addCommand(packCommand('pack'));
      root.addCommand(planCommand());
      root.addCommand(bootCommand());
      root.addCommand(flavoursCommand());
      root.addCommand(publishCommand());
      root.addCommand(cacheCommand());
      root.addCommand(installCommand());
      return root;
    }
    case 'disk-image-create':
      return buildCommand(entry, 'disk').version(KILN_VERSION);
    case 'ramdisk-image-create':
      return buildCommand(entry, 'ramdisk').version(KILN_VERSION);
    case 'disk-image-get-kernel':
      return getKernelCommand(entry).version(KILN_VERSION);
    case 'image-pack':
      return packCommand(entry).version(KILN_VERSION);
  }
}

function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: (str, write) => write(`kiln: ${str.replace(/^error: /, 'error: ')}`) });
  for (const sub of cmd.commands) configure(sub);
}

/** Runs an entry point with argv and returns the exit code (never calls process.exit itself). */
export async function run(entry: Entry, argv: readonly string[]): Promise<number> {
  const cmd = program(entry);
  configure(cmd);
  try {
    // `pack --help SPEC` describes the spec, in help text commander asks for synchronously: loaded first.
    if (entry === 'image-pack' || (entry === 'kiln' && argv.includes('pack'))) await prepareSpecHelp(entry === 'kiln' ? 'pack' : entry);
    await cmd.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code) ? EXIT.ok : EXIT.invalid;
    }
    const text = formatError(e, isDebug());
    if (text !== '') process.stderr.write(`${text}\n`);
    return exitCodeOf(e);
  }
}

/** For the bin/ shims. */
export function main(entry: Entry): void {
  run(entry, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${formatError(e, true)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
