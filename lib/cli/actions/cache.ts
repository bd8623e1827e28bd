/** `kiln cache ls|prune`: what runs once the options are parsed (loaded only then). */
import path from 'node:path';
import { StepCache, type Entry } from '../../cache/store.js';
import { OutputCache } from '../../cache/outputs.js';
import { parseSize } from '../../config/parse.js';
import { settingOf } from '../../config/config.js';
import { failed, invalid } from '../../errors/index.js';
import { listRemote } from '../../cache/remote.js';
import { RegistryClient, RegistryUnreachable } from '../../registry/client.js';
import { parseRepoRef, refText } from '../../registry/ref.js';

export interface CacheOpts {
  imageCache?: string;
  json?: boolean;
  registry?: string | boolean;
  insecureRegistry?: boolean;
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

export type PruneOpts = CacheOpts & { all?: boolean; maxSize?: string; olderThan?: string };

/** `kiln cache ls`. */
export async function cacheLs(opts: CacheOpts): Promise<void> {
  if (opts.registry !== undefined) return listRegistry(opts);
  const cache = cacheOf(opts);
  const entries = cache.list();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ dir: cache.dir, entries: entries.map(json) }, null, 2)}\n`);
    return;
  }
  for (const e of entries) process.stdout.write(`${row(e)}\n`);
  process.stdout.write(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${mib(entries.reduce((n, e) => n + e.bytes, 0))} in ${cache.dir}\n`);
}

/** `kiln cache prune`. */
export function cachePrune(opts: PruneOpts): void {
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
}

/** `kiln cache ls --registry`: the entries a cache registry holds. */
async function listRegistry(opts: CacheOpts): Promise<void> {
  const repo = typeof opts.registry === 'string' ? parseRepoRef(opts.registry, '--registry') : settingOf('cacheRegistry', process.env);
  if (!repo) throw invalid('--registry: no registry given, and KILN_CACHE_REGISTRY is not set');
  const client = new RegistryClient(repo, { insecure: opts.insecureRegistry === true || settingOf('insecureRegistry', process.env), env: process.env });
  let entries;
  try {
    entries = await listRemote(client);
  } catch (e) {
    if (e instanceof RegistryUnreachable) throw failed(e.message);
    throw e;
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ registry: refText(repo), entries }, null, 2)}\n`);
    return;
  }
  for (const e of entries) {
    const m = e.meta as { step?: string; output?: string; flavours?: string[]; release?: string; arch?: string; created?: string };
    const what =
      e.kind === 'step' ? `${(m.step ?? '?').padEnd(8)}  ${m.output ?? ''}  (${(m.flavours ?? []).join(' ')})` : e.kind === 'output' ? `${'outputs'.padEnd(8)}  ${m.output ?? ''}` : `${'base'.padEnd(8)}  ${m.release ?? ''}/${m.arch ?? ''}`;
    process.stdout.write(`${e.key.slice(0, 12)}  ${mib(e.bytes).padStart(10)}  ${what}\n`);
  }
  process.stdout.write(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${mib(entries.reduce((n, e) => n + e.bytes, 0))} in ${refText(repo)}\n`);
}
