/**
 * Writes every requested output from the tree and/or the raw disk, each atomically (see atomic.ts),
 * with optional .md5/.sha256 files, plus the package manifest and CycloneDX SBOM beside the image.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Disk } from '../disk/index.js';
import { hasCommand } from '../exec/index.js';
import { failed, invalid } from '../errors/index.js';
import type { Scope } from '../scope/index.js';
import { writeAtomically, writeTextAtomically } from './atomic.js';
import { hashFile, renderChecksumLine, type Checksums } from './checksum.js';
import { formatExtension, formatKind, type Format } from './formats.js';
import { writeManifests, type BuildInfo } from './manifest.js';
import { writeFormat, writerFor } from './registry.js';
import type { FormatRequest, Qcow2Compression } from './types.js';

export { computeImageSize } from '../disk/index.js';
export type { Qcow2Compression } from './types.js';
export { FORMATS, formatKind, formatExtension, isFormat, outputPaths, type Format } from './formats.js';

export interface OutputRequest {
  readonly tree: string;
  /** The assembled disk; required by disk formats (qcow2, raw, vhd, vmdk). */
  readonly disk?: Pick<Disk, 'raw'>;
  readonly outputs: readonly { format: Format; path: string }[];
  /** -u: uncompressed qcow2. */
  readonly uncompressed: boolean;
  /** qcow2 cluster compression (default zstd; 'zlib' for QEMU < 5.1 consumers). */
  readonly qcow2Compression?: Qcow2Compression;
  /** --checksum: FILE.md5 and FILE.sha256 beside each output. */
  readonly checksum: boolean;
  /** Base path for NAME.manifest.json and NAME.cdx.json; default: the first output minus its extension. null: none. */
  readonly manifestBase?: string | null;
  /** Recorded in NAME.manifest.json (flavours, architecture, layout; the build id is derived from the content). */
  readonly build?: BuildInfo;
  /** SOURCE_DATE_EPOCH (lib/output/epoch.ts): the latest time any output or the SBOM records. */
  readonly epoch?: number;
  /** The tree's fingerprint (lib/output/epoch.ts): what the formats derive their identifiers from. */
  readonly seed?: string;
  /** Called when each output is done (for the build log). */
  readonly onWritten?: (r: OutputResult) => void;
}

export interface OutputResult {
  readonly path: string;
  readonly format: Format;
  readonly bytes: number;
  readonly seconds: number;
  readonly checksums: Checksums | undefined;
}

export interface OutputReport {
  readonly outputs: readonly OutputResult[];
  readonly manifest: string | undefined;
  readonly sbom: string | undefined;
}

export async function writeOutputs(scope: Scope, req: OutputRequest): Promise<OutputReport> {
  checkRequest(req);
  const tools = new Set<string>();
  for (const o of req.outputs) {
    for (const t of writerFor(o.format).prefers ?? []) if (!tools.has(t) && (await hasCommand(t))) tools.add(t);
  }
  const results: OutputResult[] = [];
  // The writers get the epoch as options (req.epoch); a SOURCE_DATE_EPOCH of the caller's would clash with them
  // (mksquashfs refuses both).
  const { SOURCE_DATE_EPOCH: _sde, ...toolEnv } = process.env;
  for (const o of req.outputs) {
    const dest = path.resolve(o.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const t0 = Date.now();
    const checksums = await writeAtomically(scope, dest, async (tmp) => {
      const input: FormatRequest = {
        tree: req.tree,
        raw: req.disk?.raw,
        dest: tmp,
        final: dest,
        uncompressed: req.uncompressed,
        qcow2Compression: req.qcow2Compression ?? 'zstd',
        tools,
        ...(req.epoch === undefined ? {} : { epoch: req.epoch }),
        ...(req.seed === undefined ? {} : { seed: req.seed }),
        ...(req.build === undefined ? {} : { build: req.build }),
      };
      const free = freeBytes(path.dirname(dest));
      try {
        await writeFormat(o.format, input, { label: `${o.format} output`, env: toolEnv });
      } catch (e) {
        throw outOfSpace(e, dest, tmp, free) ?? e;
      }
      return req.checksum ? await hashFile(tmp) : undefined;
    });
    await placeChecksumFiles(scope, dest, checksums);
    const r: OutputResult = { path: dest, format: o.format, bytes: fs.statSync(dest).size, seconds: (Date.now() - t0) / 1000, checksums };
    results.push(r);
    req.onWritten?.(r);
  }
  const base = manifestBaseOf(req);
  const m = base === null ? undefined : await writeManifests(scope, req.tree, base, req.build, req.epoch);
  return { outputs: results, manifest: m?.manifest, sbom: m?.sbom };
}

const CHECKSUM_KINDS = ['md5', 'sha256'] as const;

/**
 * FILE.md5 and FILE.sha256 beside FILE for --checksum (sums given); without it, an earlier build's sums beside
 * the new output would be wrong: they go. Returns the paths written.
 */
export async function placeChecksumFiles(scope: Scope, file: string, sums: Checksums | undefined): Promise<string[]> {
  if (sums) return writeChecksumFiles(scope, file, sums);
  for (const kind of CHECKSUM_KINDS) fs.rmSync(`${file}.${kind}`, { force: true });
  return [];
}

/** FILE.md5 and FILE.sha256 beside FILE (md5sum -c / sha256sum -c format); returns their paths. */
export async function writeChecksumFiles(scope: Scope, file: string, sums: Checksums): Promise<string[]> {
  const written: string[] = [];
  for (const kind of CHECKSUM_KINDS) {
    await writeTextAtomically(scope, `${file}.${kind}`, renderChecksumLine(sums[kind], file));
    written.push(`${file}.${kind}`);
  }
  return written;
}

function freeBytes(dir: string): number | undefined {
  try {
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

const MiB = 2 ** 20;

/** A write that failed for want of space becomes one clear error: which directory, what was free, how far it got. */
export function outOfSpace(e: unknown, dest: string, tmp: string, freeBefore: number | undefined): Error | undefined {
  const text = `${(e as Error).message ?? ''} ${(e as { detail?: string }).detail ?? ''}`;
  if (!/No space left on device|ENOSPC/.test(text)) return undefined;
  let written = 0;
  try {
    written = fs.statSync(tmp).size;
  } catch {
    /* not created */
  }
  const free = freeBefore === undefined ? 'unknown' : `${(freeBefore / MiB).toFixed(1)} MiB`;
  return failed(`no space left in ${path.dirname(dest)} writing ${path.basename(dest)}: ${free} was free; it needed more than the ${(written / MiB).toFixed(1)} MiB written (partial output removed)`, {
    hint: 'free some space there or choose another -o',
  });
}

/** NAME for NAME.manifest.json: explicit, or the first output without its format's extension. */
export function manifestBaseOf(req: Pick<OutputRequest, 'outputs' | 'manifestBase'>): string | null {
  if (req.manifestBase !== undefined) return req.manifestBase;
  const first = req.outputs[0];
  if (!first) return null;
  const ext = `.${formatExtension(first.format)}`;
  const p = path.resolve(first.path);
  return p.endsWith(ext) ? p.slice(0, -ext.length) : p;
}

function checkRequest(req: OutputRequest): void {
  const seen = new Set<string>();
  for (const o of req.outputs) {
    const p = path.resolve(o.path);
    if (seen.has(p)) throw invalid(`two outputs would both be written to ${p}`);
    seen.add(p);
    if (formatKind(o.format) === 'disk' && req.disk === undefined) {
      throw invalid(`the ${o.format} output needs a disk image, but this build makes none`, 'add the vm flavour, or choose tar, tgz, squashfs or oci');
    }
  }
  if (!fs.existsSync(req.tree)) throw invalid(`root tree ${req.tree} does not exist`);
}
