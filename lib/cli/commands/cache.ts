/** `kiln cache ls|prune`: the step cache, listed and trimmed. */
import { Command } from 'commander';
import path from 'node:path';
import { StepCache, type Entry } from '../../cache/store.js';
import { OutputCache } from '../../cache/outputs.js';
import { parseSize } from '../../config/parse.js';
import { settingOf } from '../../config/config.js';
import { invalid } from '../../errors/index.js';

interface CacheOpts {
  imageCache?: string;
  json?: boolean;
}

function cacheOf(opts: CacheOpts): StepCache {
  return StepCache.under(path.resolve(settingOf('imageCache', process.env, opts.imageCache)));
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function row(e: Entry): string {
  return `${e.key.slice(0, 12)}  ${e.step.padEnd(8)}  ${mib(e.bytes).padStart(10)}  ${e.lastUsed.toISOString().slice(0, 19)}Z  ${e.output}  (${e.flavours.join(' ')})`;
}

function json(e: Entry): object {
  return { key: e.key, step: e.step, bytes: e.bytes, created: e.created, lastUsed: e.lastUsed.toISOString(), output: e.output, flavours: e.flavours, seconds: e.seconds };
}

/** "7d", "12h", "30m", "45s" → milliseconds. */
export function parseAge(raw: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd])\s*$/.exec(raw);
  if (!m) throw invalid(`--older-than: "${raw}" is not an age (examples: 30m, 12h, 7d)`);
  return Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export function cacheCommand(): Command {
  const cmd = new Command('cache').description('the step cache: list entries, or prune them');
  const common = (c: Command) => c.option('--image-cache <dir>', 'cache directory [env DIB_IMAGE_CACHE]').option('--json', 'machine-readable output');
  common(
    cmd
      .command('ls')
      .description('list step cache entries, most recently used first')
      .action((opts: CacheOpts) => {
        const cache = cacheOf(opts);
        const entries = cache.list();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dir: cache.dir, entries: entries.map(json) }, null, 2)}\n`);
          return;
        }
        for (const e of entries) process.stdout.write(`${row(e)}\n`);
        process.stdout.write(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${mib(entries.reduce((n, e) => n + e.bytes, 0))} in ${cache.dir}\n`);
      }),
  );
  common(
    cmd
      .command('prune')
      .description('remove entries: least recently used first down to the size limit, or all, or those unused for a time')
      .option('--all', 'remove every entry (and every output-cache entry)')
      .option('--max-size <size>', 'keep at most this much (default: --cache-size, env KILN_CACHE_SIZE, 10G)')
      .option('--older-than <age>', 'remove entries unused for longer than this (30m, 12h, 7d)')
      .action((opts: CacheOpts & { all?: boolean; maxSize?: string; olderThan?: string }) => {
        const limit = opts.all ? 0 : opts.maxSize !== undefined ? parseSize(opts.maxSize, '--max-size', 'the step cache') : settingOf('cacheSize', process.env);
        const olderThanMs = opts.olderThan === undefined ? undefined : parseAge(opts.olderThan);
        const cache = cacheOf(opts);
        const removed = cache.prune({ maxBytes: limit, ...(olderThanMs === undefined ? {} : { olderThanMs }) });
        const outputs = OutputCache.under(path.resolve(settingOf('imageCache', process.env, opts.imageCache)));
        const outputEntries = opts.all ? outputs.clear() : 0;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dir: cache.dir, removed: removed.map(json), remainingBytes: cache.totalBytes(), outputEntriesRemoved: outputEntries }, null, 2)}\n`);
          return;
        }
        for (const e of removed) process.stdout.write(`removed ${row(e)}\n`);
        process.stdout.write(`removed ${removed.length}, freed ${mib(removed.reduce((n, e) => n + e.bytes, 0))}; ${mib(cache.totalBytes())} left in ${cache.dir}\n`);
        if (outputEntries > 0) process.stdout.write(`removed ${outputEntries} output-cache entr${outputEntries === 1 ? 'y' : 'ies'} in ${outputs.dir}\n`);
      }),
  );
  return cmd;
}
