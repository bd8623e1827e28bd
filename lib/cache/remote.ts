/**
 * The step cache shared through an OCI registry (--cache-registry HOST[:PORT]/REPO). One artifact per entry,
 * tagged by its key: an image manifest with its own artifactType, the empty config, one layer (the local
 * entry's .tar.zst) and the entry's metadata as an annotation. Registry 2.8 has no referrers API: tags are
 * the index. Step entries are tagged `step-KEY`, base trees `base-KEY`; output-cache entries (a build's finished
 * files, lib/cache/outputs.ts) `output-KEY`, one layer per file titled by its name, so a new builder whose build
 * would change nothing gets the outputs themselves.
 * Never fails a build because it is unreachable: the first network failure turns it off for the rest of the
 * build, with one line that says so. Refused credentials are bad input (exit 2), checked before the build.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isKilnError } from '../errors/index.js';
import { currentOwner } from '../namespace/owner.js';
import type { Checksums } from '../output/checksum.js';
import type { OutputCache } from './outputs.js';
import type { BuildEvent, Logger } from '../log/index.js';
import { EMPTY_JSON, OCI_EMPTY, OCI_MANIFEST, RegistryClient, sha256, type ClientOptions, type Descriptor } from '../registry/client.js';
import { refText, type RepoRef } from '../registry/ref.js';

export type RegistryMode = 'pull' | 'push' | 'readwrite';
export const REGISTRY_MODES = ['pull', 'push', 'readwrite'] as const;

export type RemoteKind = 'step' | 'base' | 'output';
export const ARTIFACT_TYPE: Record<RemoteKind, string> = { step: 'application/vnd.kiln.step.v1', base: 'application/vnd.kiln.base-tree.v1', output: 'application/vnd.kiln.outputs.v1' };
export const LAYER_TYPE = 'application/vnd.kiln.tree.v1.tar+zstd';
/** A layer of an output entry: one finished file, named by its org.opencontainers.image.title annotation. */
export const OUTPUT_FILE_TYPE = 'application/vnd.kiln.output.v1';
const TITLE = 'org.opencontainers.image.title';
const MD5 = 'org.kiln.md5';

/** A file of an artifact: its path here, its layer's media type, and (output entries) its name. */
export interface ArtifactFile {
  readonly file: string;
  readonly mediaType: string;
  readonly title?: string;
  /** The file's md5 (output entries record it: the .md5 checksum files), carried as an annotation. */
  readonly md5?: string;
}
export const META_ANNOTATION = 'org.kiln.entry';

export const remoteTag = (kind: RemoteKind, key: string) => `${kind}-${key}`;

export interface RemoteEntry {
  readonly tag: string;
  readonly kind: RemoteKind;
  readonly key: string;
  readonly bytes: number;
  readonly meta: Record<string, unknown>;
}

export class RemoteCache {
  private off: string | undefined;
  private readonly pending: Promise<void>[] = [];
  private pushed = { count: 0, bytes: 0, seconds: 0 };

  private constructor(
    readonly client: RegistryClient,
    readonly mode: RegistryMode,
    private readonly log: Logger,
  ) {}

  get where(): string {
    return refText(this.client.repo);
  }

  get canPull(): boolean {
    return this.off === undefined && this.mode !== 'push';
  }

  get canPush(): boolean {
    return this.off === undefined && this.mode !== 'pull';
  }

  /**
   * Connects and checks the credentials. Refused ones throw (exit 2); an unreachable registry gives a cache
   * that is off (and says so).
   */
  static async open(repo: RepoRef, mode: RegistryMode, opts: ClientOptions, log: Logger): Promise<RemoteCache> {
    const remote = new RemoteCache(new RegistryClient(repo, opts), mode, log);
    const t0 = Date.now();
    try {
      await remote.client.ping();
      log.info(`cache registry ${remote.where} (${mode}): reachable (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      remote.turnOff(e);
    }
    return remote;
  }

  private turnOff(e: unknown): void {
    if (isKilnError(e)) throw e;
    if (this.off !== undefined) return;
    this.off = (e as Error).message;
    this.log.warn(`cache registry ${this.where} unreachable: building on without it (${this.off})`);
  }

  /** Which of the keys the registry holds (as `kind` entries); none when it is off or read-only is not allowed. */
  async holds(kind: RemoteKind, keys: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (this.off !== undefined) return out;
    try {
      const found = await Promise.all(keys.map(async (key) => ((await this.client.getManifest(remoteTag(kind, key))) ? key : undefined)));
      for (const key of found) if (key !== undefined) out.add(key);
    } catch (e) {
      this.turnOff(e);
    }
    return out;
  }

  /**
   * Pulls an entry: its layer streamed into `tarball` (digest-checked) and its metadata. Undefined when it is
   * missing or the registry failed (then the cache is off).
   */
  async pull(kind: RemoteKind, key: string, tarball: string, event: (e: BuildEvent) => void): Promise<Record<string, unknown> | undefined> {
    if (!this.canPull) return undefined;
    const t0 = Date.now();
    try {
      const got = await this.client.getManifest(remoteTag(kind, key));
      if (!got) return undefined;
      const m = JSON.parse(got.body.toString('utf8')) as { artifactType?: string; layers?: Descriptor[]; annotations?: Record<string, string> };
      const layer = m.layers?.[0];
      if (m.artifactType !== ARTIFACT_TYPE[kind] || !layer || layer.mediaType !== LAYER_TYPE) throw new Error(`${remoteTag(kind, key)} is not a kiln ${kind} entry`);
      const bytes = await this.client.pullBlob(layer.digest, tarball);
      const seconds = (Date.now() - t0) / 1000;
      this.log.info(`  pulled ${kind} ${key.slice(0, 12)} from ${this.where}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(1)} s (digest verified)`);
      event({ event: 'cache-pull', kind, key, bytes, seconds, registry: this.where });
      return JSON.parse(m.annotations?.[META_ANNOTATION] ?? '{}') as Record<string, unknown>;
    } catch (e) {
      this.turnOff(e);
      return undefined;
    }
  }

  /** The KEY=value lines a step entry's hooks printed (its metadata's values), without pulling its layer. */
  async stepValues(key: string): Promise<Record<string, string> | undefined> {
    if (!this.canPull) return undefined;
    try {
      const got = await this.client.getManifest(remoteTag('step', key));
      if (!got) return undefined;
      const m = JSON.parse(got.body.toString('utf8')) as { annotations?: Record<string, string> };
      const meta = JSON.parse(m.annotations?.[META_ANNOTATION] ?? '{}') as { values?: Record<string, string> };
      return meta.values ?? {};
    } catch (e) {
      this.turnOff(e);
      return undefined;
    }
  }

  /**
   * Pulls an entry of several files (output entries) into `dir`, each under its title, digest-checked; returns
   * the files' paths by name, or undefined when it is missing or the registry failed (then the cache is off).
   */
  async pullFiles(kind: RemoteKind, key: string, dir: string, event: (e: BuildEvent) => void): Promise<Record<string, { path: string; sums: Checksums }> | undefined> {
    if (!this.canPull) return undefined;
    const t0 = Date.now();
    try {
      const got = await this.client.getManifest(remoteTag(kind, key));
      if (!got) return undefined;
      const m = JSON.parse(got.body.toString('utf8')) as { artifactType?: string; layers?: Descriptor[] };
      const layers = m.layers ?? [];
      const titles = layers.map((l) => l.annotations?.[TITLE] ?? '');
      if (m.artifactType !== ARTIFACT_TYPE[kind] || layers.length === 0 || !titles.every((t) => /^[a-z0-9][a-z0-9.-]*$/.test(t)) || new Set(titles).size !== titles.length) {
        throw new Error(`${remoteTag(kind, key)} is not a kiln ${kind} entry`);
      }
      const files: Record<string, { path: string; sums: Checksums }> = {};
      let bytes = 0;
      for (const [i, layer] of layers.entries()) {
        const file = path.join(dir, titles[i] as string);
        // The output cache records md5 too: from the manifest (as trusted as the digests it names), else
        // computed on the way in; either way nothing reads the file again.
        const noted = layer.annotations?.[MD5];
        const md5 = noted && /^[0-9a-f]{32}$/.test(noted) ? undefined : crypto.createHash('md5');
        bytes += await this.client.pullBlob(layer.digest, file, md5 ? (chunk) => md5.update(chunk) : undefined);
        files[titles[i] as string] = { path: file, sums: { sha256: layer.digest.slice('sha256:'.length), md5: md5 ? md5.digest('hex') : (noted as string) } };
      }
      const seconds = (Date.now() - t0) / 1000;
      this.log.info(`  pulled ${kind} ${key.slice(0, 12)} from ${this.where}: ${titles.join(', ')}, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(1)} s (digests verified)`);
      event({ event: 'cache-pull', kind, key, bytes, seconds, registry: this.where });
      return files;
    } catch (e) {
      this.turnOff(e);
      return undefined;
    }
  }

  /**
   * Pushes an entry in the background (drain() awaits it). `file` is read while pushing: pass a pinned copy
   * and release it in `done`.
   */
  push(kind: RemoteKind, key: string, file: string, meta: object, done: () => void = () => undefined): void {
    this.pushFiles(kind, key, [{ file, mediaType: LAYER_TYPE }], meta, done);
  }

  /** Pushes an entry of several files (one layer each) in the background, as push() does. */
  pushFiles(kind: RemoteKind, key: string, files: readonly ArtifactFile[], meta: object, done: () => void = () => undefined): void {
    if (!this.canPush) {
      done();
      return;
    }
    const task = (async () => {
      const t0 = Date.now();
      try {
        await this.client.pushBlob(sha256(EMPTY_JSON), EMPTY_JSON.length, { bytes: EMPTY_JSON });
        const layers: Descriptor[] = [];
        let size = 0;
        let how: 'exists' | 'mounted' | 'uploaded' = 'exists';
        for (const f of files) {
          const bytes = fs.statSync(f.file).size;
          const digest = await this.client.fileDigest(f.file);
          const h = await this.client.pushBlob(digest, bytes, { file: f.file });
          if (h === 'uploaded' || how === 'exists') how = h;
          size += bytes;
          layers.push({ mediaType: f.mediaType, digest, size: bytes, ...(f.title !== undefined ? { annotations: { [TITLE]: f.title, ...(f.md5 ? { [MD5]: f.md5 } : {}) } } : {}) });
        }
        const manifest = {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: ARTIFACT_TYPE[kind],
          config: { mediaType: OCI_EMPTY, digest: sha256(EMPTY_JSON), size: EMPTY_JSON.length },
          layers,
          annotations: { [META_ANNOTATION]: JSON.stringify(meta), 'org.opencontainers.image.created': new Date().toISOString() },
        };
        await this.client.putManifest(remoteTag(kind, key), JSON.stringify(manifest), OCI_MANIFEST);
        const seconds = (Date.now() - t0) / 1000;
        this.pushed = { count: this.pushed.count + 1, bytes: this.pushed.bytes + (how === 'uploaded' ? size : 0), seconds: this.pushed.seconds + seconds };
        this.log.info(`  pushed ${kind} ${key.slice(0, 12)} to ${this.where}: ${(size / 2 ** 20).toFixed(1)} MiB ${how === 'uploaded' ? 'uploaded' : `(layer ${how})`} in ${seconds.toFixed(1)} s`);
        this.log.event({ event: 'cache-push', kind, key, bytes: how === 'uploaded' ? size : 0, seconds, registry: this.where });
      } catch (e) {
        if (this.off === undefined) this.log.warn(`cache registry ${this.where}: could not push ${kind} ${key.slice(0, 12)}: ${(e as Error).message}`);
        this.log.event({ event: 'cache-push', kind, key, bytes: 0, seconds: (Date.now() - t0) / 1000, registry: this.where, failed: (e as Error).message });
        if (!isKilnError(e)) this.turnOff(e);
      } finally {
        done();
      }
    })();
    this.pending.push(task);
  }

  /** Awaits every push; says what was pushed, or that the registry failed. */
  async drain(): Promise<void> {
    if (this.pending.length === 0) return;
    const t0 = Date.now();
    await Promise.all(this.pending.splice(0));
    const waited = (Date.now() - t0) / 1000;
    const p = this.pushed;
    if (this.off !== undefined) this.log.warn(`cache registry ${this.where}: could not push the build's entries (${this.off}); the build itself is complete`);
    else this.log.info(`cache registry ${this.where}: ${p.count} entr${p.count === 1 ? 'y' : 'ies'} pushed, ${(p.bytes / 2 ** 20).toFixed(1)} MiB sent (waited ${waited.toFixed(1)} s at the end)`);
  }
}

/** Every kiln entry a repository holds (tags step-*, base-* and output-*), with its metadata. */
export async function listRemote(client: RegistryClient): Promise<RemoteEntry[]> {
  const out: RemoteEntry[] = [];
  for (const tag of (await client.tags()).sort()) {
    const m = /^(step|base|output)-([0-9a-f]+)$/.exec(tag);
    if (!m) continue;
    const got = await client.getManifest(tag);
    if (!got) continue;
    const man = JSON.parse(got.body.toString('utf8')) as { layers?: Descriptor[]; annotations?: Record<string, string> };
    out.push({ tag, kind: m[1] as RemoteKind, key: m[2] as string, bytes: (man.layers ?? []).reduce((n, l) => n + l.size, 0), meta: JSON.parse(man.annotations?.[META_ANNOTATION] ?? '{}') as Record<string, unknown> });
  }
  return out;
}

/**
 * An output-cache entry the registry holds, pulled (digest-checked) into a scratch directory inside the output
 * cache and stored there as a local entry; false when it is missing or could not be pulled.
 */
export async function pullOutputEntry(remote: RemoteCache, outputs: OutputCache, key: string, event: (e: BuildEvent) => void): Promise<boolean> {
  if (!remote.canPull) return false;
  const o = currentOwner();
  const scratch = path.join(outputs.dir, `.pull-${key}.kiln-part-${o.pid}-${o.start}`);
  fs.mkdirSync(scratch, { recursive: true });
  try {
    const files = await remote.pullFiles('output', key, scratch, event);
    return files !== undefined && (await outputs.store(key, Object.entries(files).map(([name, f]) => ({ name, path: f.path, sums: f.sums }))));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Pushes a local output-cache entry (its files as they are in the cache) unless the registry has it already. */
export async function pushOutputEntry(remote: RemoteCache, outputs: OutputCache, key: string, meta: object): Promise<void> {
  const entry = outputs.read(key);
  if (!entry || !remote.canPush || (await remote.holds('output', [key])).size > 0) return;
  remote.pushFiles('output', key, entry.files.map((f) => ({ file: outputs.file(key, f.name), mediaType: OUTPUT_FILE_TYPE, title: f.name, md5: f.md5 })), meta);
}
