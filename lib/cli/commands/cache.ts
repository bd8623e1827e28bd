/** `kiln cache ls|prune`: the step cache, listed and trimmed. The actions load lib/cli/actions/cache.ts when they run. */
import { Command } from 'commander';
import type { CacheOpts, PruneOpts } from '../actions/cache.js';

export function cacheCommand(): Command {
  const cmd = new Command('cache').description('the step cache: list entries, or prune them');
  const common = (c: Command) => c.option('--image-cache <dir>', 'cache directory [env DIB_IMAGE_CACHE]').option('--json', 'machine-readable output');
  common(
    cmd
      .command('ls')
      .description('list step cache entries, most recently used first; with --registry, those of the cache registry')
      .option('--registry [host/repo]', 'list the cache registry instead (default: --cache-registry, env KILN_CACHE_REGISTRY)')
      .option('--insecure-registry', 'speak plain HTTP to a registry that is not on loopback')
      .action(async (opts: CacheOpts) => (await import('../actions/cache.js')).cacheLs(opts)),
  );
  common(
    cmd
      .command('prune')
      .description('remove entries: least recently used first down to the size limit, or all, or those unused for a time')
      .option('--all', 'remove every entry (and every output-cache entry)')
      .option('--max-size <size>', 'keep at most this much (default: --cache-size, env KILN_CACHE_SIZE, 10G)')
      .option('--older-than <age>', 'remove entries unused for longer than this (30m, 12h, 7d)')
      .action(async (opts: PruneOpts) => (await import('../actions/cache.js')).cachePrune(opts)),
  );
  return cmd;
}
