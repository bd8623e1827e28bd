/**
 * The step cache on disk, under <image cache>/kiln/steps/:
 *   <key>.tar.zst   the tree after the step (tar, zstd on every core; mounts below the tree are not crossed)
 *   <key>.json      what it is: step, inputs, the values its hooks printed, size; its mtime is the last use
 *   <key>.lock      held by the build storing that key (others skip storing the same key meanwhile)
 *   <key>.tar.zst.pin-<pid>-<start>   a hard link held while a build restores it, so pruning never pulls
 *                   an entry from under a reader
 *   lineage/<id>.json   the inputs of the last good build of a step for an output name: what a miss is
 *                   explained against
 * Writers write to a private name and rename; an entry exists once its .json does. Any number of builds
 * share the directory; pruning removes least recently used entries first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec/index.js';
import { clearStaleLock, isLockLeftover, removeLockLeftover, tryLock } from '../namespace/lock.js';
import { currentOwner, ownerAlive, partOwner } from '../namespace/owner.js';
import { deviceExcludes } from '../namespace/rootless.js';
import { digest, type CacheStepName } from './inputs.js';

export interface EntryMeta {
  readonly key: string;
  readonly step: CacheStepName;
  readonly inputs: Readonly<Record<string, string>>;
  /** KEY=value lines hooks printed in the step (IMAGE_SIZE, …), replayed on a hit. */
  readonly values: Readonly<Record<string, string>>;
  readonly output: string;
  readonly flavours: readonly string[];
  readonly created: string;
  readonly bytes: number;
  readonly seconds: number;
}

export interface Entry extends EntryMeta {
  readonly lastUsed: Date;
}

const TAR_FLAGS = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls'];

export class StepCache {
  constructor(readonly dir: string) {}

  static under(imageCache: string): StepCache {
    return new StepCache(path.join(imageCache, 'kiln', 'steps'));
  }

  private tarPath(key: string): string {
    return path.join(this.dir, `${key}.tar.zst`);
  }

  private metaPath(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): Entry | undefined {
    try {
      const meta = this.metaPath(key);
      const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as EntryMeta;
      if (!fs.existsSync(this.tarPath(key))) return undefined;
      return { ...m, lastUsed: fs.statSync(meta).mtime };
    } catch {
      return undefined;
    }
  }

  /**
   * A hard link to an entry's tarball that pruning cannot pull from under its reader (several pins of one
   * process are told apart by `tag`), and its release; undefined when the entry is gone.
   */
  pin(key: string, tag = ''): { file: string; release: () => void } | undefined {
    const o = currentOwner();
    const file = `${this.tarPath(key)}.pin-${o.pid}-${o.start}${tag}`;
    try {
      fs.linkSync(this.tarPath(key), file);
    } catch {
      return undefined;
    }
    return { file, release: () => fs.rmSync(file, { force: true }) };
  }

  /** Unpacks an entry into an empty directory. False when it vanished (pruned) before it was pinned. */
  async restore(key: string, into: string): Promise<boolean> {
    const pin = this.pin(key);
    if (!pin) return false;
    try {
      fs.mkdirSync(into, { recursive: true });
      const excludes = await deviceExcludes(pin.file, 'zstd -d -T0');
      await run('tar', ['-x', '-p', '-I', 'zstd -d -T0', ...TAR_FLAGS, ...excludes, '-f', pin.file, '-C', into], { label: 'restore from the step cache' });
      const now = new Date();
      fs.utimesSync(this.metaPath(key), now, now);
      return true;
    } finally {
      pin.release();
    }
  }

  /** A part-file name in the cache directory for an entry being fetched (from a registry). */
  partName(key: string): string {
    fs.mkdirSync(this.dir, { recursive: true });
    const o = currentOwner();
    return `${this.tarPath(key)}.kiln-part-${o.pid}-${o.start}-fetch`;
  }

  /** Makes a fetched tarball (renamed from `tarball`, in this directory) the entry for meta.key. */
  adopt(tarball: string, meta: EntryMeta): void {
    fs.renameSync(tarball, this.tarPath(meta.key));
    writeAtomic(this.metaPath(meta.key), `${JSON.stringify(meta, null, 2)}\n`);
  }

  /**
   * Stores the tree as the entry for key, unless another build holds it or is storing it now. Returns the
   * entry's size, or undefined when skipped.
   */
  async store(tree: string, meta: Omit<EntryMeta, 'bytes' | 'created'>): Promise<number | undefined> {
    fs.mkdirSync(this.dir, { recursive: true });
    if (this.get(meta.key)) return undefined;
    const release = this.lock(meta.key);
    if (!release) return undefined;
    const o = currentOwner();
    const part = `${this.tarPath(meta.key)}.kiln-part-${o.pid}-${o.start}`;
    try {
      await run('tar', ['-c', '-I', 'zstd -1 -T0', ...TAR_FLAGS, '--one-file-system', '--sparse', '-f', part, '-C', tree, '.'], { label: 'store in the step cache' });
      const bytes = fs.statSync(part).size;
      fs.renameSync(part, this.tarPath(meta.key));
      const full: EntryMeta = { ...meta, bytes, created: new Date().toISOString() };
      writeAtomic(this.metaPath(meta.key), `${JSON.stringify(full, null, 2)}\n`);
      return bytes;
    } finally {
      fs.rmSync(part, { force: true });
      release();
    }
  }

  /** Takes <key>.lock for this process, or undefined when a live build holds it. */
  private lock(key: string): (() => void) | undefined {
    try {
      const got = tryLock(path.join(this.dir, `${key}.lock`));
      return 'release' in got ? got.release : undefined;
    } catch {
      return undefined; // a lock file that is not kiln's: leave the key alone
    }
  }

  list(): Entry[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => /^[0-9a-f]{32}\.json$/.test(n))
      .flatMap((n) => {
        const e = this.get(n.slice(0, -5));
        return e ? [e] : [];
      })
      .sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
  }

  /** Bytes on disk: entries plus anything half-written. */
  totalBytes(): number {
    return this.list().reduce((n, e) => n + e.bytes, 0);
  }

  /**
   * Removes entries, least recently used first, until the total is at most maxBytes (all of them with 0),
   * and those unused for longer than olderThanMs; keeps `keep`. Leftovers of dead builds go too.
   */
  prune(opts: { maxBytes?: number; olderThanMs?: number; keep?: readonly string[] }): Entry[] {
    const removed: Entry[] = [];
    const entries = this.list();
    let total = entries.reduce((n, e) => n + e.bytes, 0);
    const now = Date.now();
    for (const e of [...entries].reverse()) {
      if (opts.keep?.includes(e.key)) continue;
      const old = opts.olderThanMs !== undefined && now - e.lastUsed.getTime() > opts.olderThanMs;
      const over = opts.maxBytes !== undefined && total > opts.maxBytes;
      if (!old && !over) continue;
      fs.rmSync(this.metaPath(e.key), { force: true });
      fs.rmSync(this.tarPath(e.key), { force: true });
      total -= e.bytes;
      removed.push(e);
    }
    this.sweepDead();
    return removed;
  }

  /** Part files, pins and locks of builds that are gone. */
  private sweepDead(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.endsWith('.lock')) clearStaleLock(path.join(this.dir, n));
      else if (isLockLeftover(n)) removeLockLeftover(this.dir, n);
      const owner = partOwner(n);
      if (owner && !ownerAlive(owner)) fs.rmSync(path.join(this.dir, n), { force: true });
    }
  }

  private lineagePath(step: CacheStepName, output: string): string {
    return path.join(this.dir, 'lineage', `${step}-${digest(path.resolve(output))}.json`);
  }

  /** The inputs of the last good build of this step for this output, if any. */
  lineage(step: CacheStepName, output: string): { key: string; inputs: Record<string, string> } | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.lineagePath(step, output), 'utf8')) as { key: string; inputs: Record<string, string> };
    } catch {
      return undefined;
    }
  }

  recordLineage(step: CacheStepName, output: string, key: string, inputs: Readonly<Record<string, string>>): void {
    const file = this.lineagePath(step, output);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomic(file, `${JSON.stringify({ key, inputs, output: path.resolve(output) }, null, 2)}\n`);
  }
}

function writeAtomic(file: string, text: string): void {
  const o = currentOwner();
  const tmp = `${file}.kiln-part-${o.pid}-${o.start}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
