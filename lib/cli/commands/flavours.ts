import { Command } from 'commander';
import type { FlavoursOpts } from '../actions/flavours.js';

/** `kiln flavours`; the action loads lib/cli/actions/flavours.ts when it runs. */
export function flavoursCommand(): Command {
  return new Command('flavours')
    .description('list the available flavours with the first line of each README')
    .option('--elements-path <dirs>', 'colon-separated flavour directories searched before kiln\'s own [env ELEMENTS_PATH]')
    .option('--json', 'machine-readable output')
    .action(async (opts: FlavoursOpts) => (await import('../actions/flavours.js')).listFlavours(opts));
}
