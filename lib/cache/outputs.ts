/**
 * The output cache: a build's files (disk images, archives, manifest, SBOM) kept by a key of everything they
 * are made from — the last step's key (which chains every step's inputs), the output options, the values the
 * hooks printed (IMAGE_SIZE) and all of kiln's code — so that a rebuild with nothing changed links them into
 * place instead of restoring the tree, assembling the disk and compressing it again.
 *
 * Entries live in IMAGE_CACHE/kiln/outputs/KEY/: the files, hard-linked to the outputs they were (no copy),
 * and entry.json with each file's sha256 and size. An entry is used only when every file still has the
 * digest it was stored with (an output changed in place since, through its other link, fails that and the
 * entry is dropped); it is made under a temporary name and renamed into place, so it is whole or absent.
 * Outputs on another filesystem than the cache are not stored. The newest KEEP entries are kept.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hashFile, type Checksums } from '../output/checksum.js';
import { currentOwner, ownerAlive, partOwner } from '../namespace/owner.js';

export interface OutputEntryFile {
  /** The file's name in the entry: the output's format, or `manifest` / `sbom`. */
  readonly name: string;
  readonly sha256: string;
  readonly md5: string;
  readonly bytes: number;
}

export interface OutputEntry {
  readonly key: string;
  readonly files: readonly OutputEntryFile[];
}

/** How many entries are kept (each is mostly hard links to outputs that exist anyway). */
const KEEP = 8;

/** The key of a build's outputs: every input as name → value, in a fixed order. */
export function outputKey(inputs: Readonly<Record<string, string>>): string {
  const text = JSON.stringify(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b)));
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export class OutputCache {
  constructor(readonly dir: string) {}

  static under(imageCache: string): OutputCache {
    return new OutputCache(path.join(imageCache, 'kiln', 'outputs'));
  }

  /** The entry, when it exists and every file still has its recorded size and digest; a damaged entry is dropped. */
  async verified(key: string): Promise<OutputEntry | undefined> {
    const dir = path.join(this.dir, key);
    const entry = this.read(key);
    if (!entry) return undefined;
    for (const f of entry.files) {
      const p = path.join(dir, f.name);
      const ok = fs.statSync(p, { throwIfNoEntry: false })?.size === f.bytes && (await hashFile(p)).sha256 === f.sha256;
      if (!ok) {
        fs.rmSync(dir, { recursive: true, force: true });
        return undefined;
      }
    }
    const now = new Date();
    fs.utimesSync(path.join(dir, 'entry.json'), now, now);
    return entry;
  }

  /** The entry as recorded, unchecked: for one this process has just stored from files it hashed itself. */
  read(key: string): OutputEntry | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, key, 'entry.json'), 'utf8')) as OutputEntry;
    } catch {
      return undefined;
    }
  }

  /** The path of a file of an entry. */
  file(key: string, name: string): string {
    return path.join(this.dir, key, name);
  }

  /**
   * Stores the files (name → path, each with its checksums when known) as the entry for key, by hard links.
   * Returns false when they cannot be linked (another filesystem): nothing is stored then.
   */
  async store(key: string, files: readonly { name: string; path: string; sums?: Checksums }[]): Promise<boolean> {
    if (fs.existsSync(path.join(this.dir, key, 'entry.json'))) return true;
    fs.mkdirSync(this.dir, { recursive: true });
    const o = currentOwner();
    const tmp = path.join(this.dir, `.${key}.kiln-part-${o.pid}-${o.start}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    try {
      const recorded: OutputEntryFile[] = [];
      for (const f of files) {
        try {
          fs.linkSync(f.path, path.join(tmp, f.name));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EXDEV') return false;
          throw e;
        }
        const sums = f.sums ?? (await hashFile(f.path));
        recorded.push({ name: f.name, sha256: sums.sha256, md5: sums.md5, bytes: fs.statSync(f.path).size });
      }
      fs.writeFileSync(path.join(tmp, 'entry.json'), `${JSON.stringify({ key, files: recorded }, null, 2)}\n`);
      fs.rmSync(path.join(this.dir, key), { recursive: true, force: true });
      fs.renameSync(tmp, path.join(this.dir, key));
      this.prune();
      return true;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Removes every entry; returns how many there were. */
  clear(): number {
    const n = fs.existsSync(this.dir) ? fs.readdirSync(this.dir).filter((e) => !e.startsWith('.')).length : 0;
    fs.rmSync(this.dir, { recursive: true, force: true });
    return n;
  }

  /**
   * Keeps the KEEP most recently used entries, and removes the scratch directories (a store's or a registry
   * pull's, `.KEY.kiln-part-PID-START`) of builds that died before renaming or removing them.
   */
  private prune(): void {
    const names = fs.readdirSync(this.dir);
    for (const n of names) {
      const owner = partOwner(n);
      if (owner && !ownerAlive(owner)) fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
    }
    const entries = names
      .filter((n) => !n.startsWith('.'))
      .map((n) => ({ n, t: fs.statSync(path.join(this.dir, n, 'entry.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.t - a.t);
    for (const e of entries.slice(KEEP)) fs.rmSync(path.join(this.dir, e.n), { recursive: true, force: true });
  }
}
