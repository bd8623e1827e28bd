/**
 * An image file as a target. kiln never touches the original while it works: the image is converted to a
 * sparse raw copy in a work directory, the root filesystem of the copy is mounted (a loop device that
 * detaches itself on unmount, inside kiln's private mount namespace) and handled as a tree (chroot).
 * Only a reconcile that fully succeeded writes the copy back, in the image's own format, under a
 * temporary name beside the original that is renamed over it; any other end leaves the original
 * byte-identical.
 */
import fs from 'node:fs';
import path from 'node:path';
import { outputFormatOf, readDiskInfo } from '../../boot/image.js';
import type { DiskFormat } from '../../boot/types.js';
import { enterChroot } from '../../chroot/index.js';
import { invalid } from '../../errors/index.js';
import { run } from '../../exec/index.js';
import { partitionsOf, type PartitionExtent } from '../../inspect/kernel.js';
import { mountLoop } from '../../mount/index.js';
import { writeAtomically } from '../../output/atomic.js';
import type { Format } from '../../output/formats.js';
import { writeFormat } from '../../output/registry.js';
import type { Qcow2Compression } from '../../output/types.js';
import { createWorkDir } from '../../build/workdir.js';
import type { Scope } from '../../scope/index.js';
import type { CommandResult, Distro, Target, TargetOutcome, TargetRunOptions } from './target.js';
import { TreeTarget } from './tree.js';
import { existsInTree } from '../../rootfs/paths.js';

export interface ImageTargetOptions {
  readonly testOnly: boolean;
  /** The root filesystem as the guest names it (/dev/sda1, /dev/vda2, /dev/nvme0n1p1) or a partition number. */
  readonly rootFilesystem?: string;
  readonly say?: (line: string) => void;
  /**
   * Reconcile: the least free space (bytes) the root filesystem must have before validators run; the copy
   * (and so the image) grows when it has less. Built images are sized to fit, so installing anything
   * needs room. 0: never grow.
   */
  readonly minFree?: number;
}

const MiB = 2 ** 20;

/** `--root-filesystem`: /dev/sda1, /dev/vda2, /dev/xvda1, /dev/nvme0n1p2 or a bare number → the partition number. */
export function partitionNumber(spec: string): number {
  const m = /^(?:\/dev\/(?:[sv]d[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+p|mmcblk\d+p))?(\d+)$/.exec(spec.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(n) || n < 1) throw invalid(`--root-filesystem ${spec}: expected a partition such as /dev/sda1, /dev/vda2 or a partition number`);
  return n;
}

export class ImageTarget implements Target {
  readonly description: string;

  private constructor(
    readonly file: string,
    private readonly tree: TreeTarget,
    private readonly raw: string,
    private readonly format: DiskFormat,
    private readonly qcow2Compression: Qcow2Compression,
    private readonly unmountRoot: () => Promise<void>,
    private readonly scope: Scope,
    private readonly testOnly: boolean,
  ) {
    this.description = `image ${file}`;
  }

  /** Makes the working copy and mounts its root filesystem; everything is undone by the scope. */
  static async open(scope: Scope, file: string, opts: ImageTargetOptions): Promise<ImageTarget> {
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw invalid(`image "${file}" does not exist or is not a file`);
    try {
      fs.accessSync(file, opts.testOnly ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK);
      if (!opts.testOnly) fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
    } catch {
      throw invalid(`image "${file}": ${opts.testOnly ? 'not readable' : 'it (or its directory) is not writable, so it cannot be replaced'}`);
    }
    const info = await readDiskInfo(file, 'image');
    const work = await createWorkDir(scope, false);
    const raw = path.join(work, 'image.raw');
    const t0 = Date.now();
    await run('qemu-img', ['convert', '--force-share', '-f', info.format, '-O', 'raw', file, raw], { label: `qemu-img convert ${file}` });
    opts.say?.(`kiln: working on a raw copy of ${file} (${info.format}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const table = await run('sfdisk', ['--json', raw], { allowFailure: true });
    const parts: PartitionExtent[] = table.exitCode === 0 ? partitionsOf(table.stdout, { bytes: fs.statSync(raw).size, what: `image "${file}"` }) : [];
    // A partition image (no table) is one filesystem at offset 0.
    const candidates = parts.length > 0 ? parts : [{ number: 0, offset: 0, size: fs.statSync(raw).size }];
    const mnt = path.join(work, 'root');
    const wanted = opts.rootFilesystem === undefined ? undefined : partitionNumber(opts.rootFilesystem);
    const tried = wanted === undefined ? candidates : candidates.filter((p) => p.number === wanted);
    if (wanted !== undefined && tried.length === 0) {
      throw invalid(`--root-filesystem ${opts.rootFilesystem}: image "${file}" has no partition ${wanted} (it has ${parts.map((p) => p.number).join(', ') || 'no partition table'})`);
    }
    let unmountRoot: (() => Promise<void>) | undefined;
    let rootPart: PartitionExtent | undefined;
    for (const p of tried) {
      const undo = await mountLoop(scope, raw, mnt, p);
      if (!undo) continue;
      if (wanted !== undefined || existsInTree(mnt, '/etc/os-release') || existsInTree(mnt, '/usr/lib/os-release')) {
        unmountRoot = undo;
        rootPart = p;
        break;
      }
      await undo();
    }
    if (!unmountRoot || !rootPart) {
      throw invalid(`image "${file}": no root filesystem found (no partition with a mountable filesystem holding /etc/os-release)`, 'name it with --root-filesystem, e.g. /dev/sda1');
    }
    if (!opts.testOnly && (opts.minFree ?? 0) > 0) {
      const grown = await growIfFull(scope, raw, mnt, { part: rootPart, table: parts, gpt: table.stdout.includes('"label": "gpt"') }, unmountRoot, opts.minFree ?? 0, opts.say);
      if (grown) unmountRoot = grown;
    }
    const compression = info.qcow2Compression === 'zlib' ? 'zlib' : 'zstd';
    const tree = new TreeTarget(mnt, { testOnly: opts.testOnly, enter: (dir) => enterChroot(dir, {}) });
    return new ImageTarget(file, tree, raw, info.format, compression, unmountRoot, scope, opts.testOnly);
  }

  distro(): Promise<Distro> {
    return this.tree.distro();
  }
  run(argv: readonly string[], opts?: TargetRunOptions): Promise<CommandResult> {
    return this.tree.run(argv, opts);
  }
  writeFile(p: string, contents: string | Uint8Array, mode: number): Promise<void> {
    return this.tree.writeFile(p, contents, mode);
  }
  removeFile(p: string): Promise<void> {
    return this.tree.removeFile(p);
  }
  exists(p: string): Promise<boolean> {
    return this.tree.exists(p);
  }
  copyIn(hostPath: string, p: string, mode: number): Promise<void> {
    return this.tree.copyIn(hostPath, p, mode);
  }

  /** commit (a reconcile that succeeded): the copy replaces the image; discard: the image stays as it was. */
  async close(outcome: TargetOutcome): Promise<void> {
    await this.tree.close(outcome);
    await this.unmountRoot();
    if (outcome !== 'commit' || this.testOnly) return;
    const st = fs.statSync(this.file);
    const format: Format = outputFormatOf(this.format);
    await writeAtomically(this.scope, path.resolve(this.file), async (tmp) => {
      const input = { tree: '', raw: this.raw, dest: tmp, final: path.resolve(this.file), uncompressed: false, qcow2Compression: this.qcow2Compression, tools: new Set<string>() };
      await writeFormat(format, input, { label: `write ${this.file}` });
      fs.chmodSync(tmp, st.mode & 0o7777);
      fs.chownSync(tmp, st.uid, st.gid);
    });
  }
}

function freeBytes(dir: string): number {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

/**
 * Grows the raw copy so that the mounted root filesystem has at least `minFree` bytes free: the file, then
 * its partition (which must be the last one; a GPT's backup header is moved to the new end first), then the
 * ext2/3/4 filesystem online. Returns the new unmount, or undefined when nothing needed doing.
 */
interface RootPlace {
  /** The root filesystem's extent; number 0 for a partition image (no table). */
  readonly part: PartitionExtent;
  readonly table: readonly PartitionExtent[];
  readonly gpt: boolean;
}

async function growIfFull(scope: Scope, raw: string, mnt: string, at: RootPlace, unmountRoot: () => Promise<void>, minFree: number, say?: (l: string) => void): Promise<(() => Promise<void>) | undefined> {
  const free = freeBytes(mnt);
  if (free >= minFree) return undefined;
  const fstype = (await run('findmnt', ['-no', 'FSTYPE', mnt])).stdout.trim();
  if (!/^ext[234]$/.test(fstype)) {
    say?.(`kiln: the root filesystem has ${(free / MiB).toFixed(0)} MiB free and is ${fstype}: kiln grows only ext2/3/4, so it stays as it is`);
    return undefined;
  }
  const grow = Math.ceil((minFree - free) / MiB + 64) * MiB;
  const root = at.part.number > 0 ? at.part : undefined;
  if (root && at.table.some((p) => p.offset > root.offset)) {
    say?.(`kiln: the root filesystem has ${(free / MiB).toFixed(0)} MiB free; it is not the last partition, so kiln cannot grow it`);
    return undefined;
  }
  await unmountRoot();
  await run('qemu-img', ['resize', '-q', '-f', 'raw', raw, `+${grow}`], { label: 'grow the image copy' });
  if (root) {
    if (at.gpt) await run('sfdisk', ['--relocate', 'gpt-bak-std', raw], { label: 'move the GPT backup header' });
    // To the end of the disk (a GPT's last usable sector), stated explicitly: `, +` overshoots on files.
    const t = (JSON.parse((await run('sfdisk', ['--json', raw])).stdout) as { partitiontable: { lastlba?: number; sectorsize?: number } }).partitiontable;
    const sector = t.sectorsize ?? 512;
    const last = t.lastlba ?? fs.statSync(raw).size / sector - 1;
    const start = root.offset / sector;
    await run('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', '-N', String(root.number), raw], { input: `${start},${last - start + 1}\n`, label: `grow partition ${root.number}` });
  }
  const after = root ? partitionsOf((await run('sfdisk', ['--json', raw])).stdout).find((p) => p.number === root.number) : { number: 0, offset: 0, size: fs.statSync(raw).size };
  if (!after) throw new Error(`partition ${root?.number} vanished from ${raw} while growing it`);
  // Offline, on the file itself at the partition's offset (e2fsprogs' `file?offset=N`): no loop device.
  const fsAt = `${raw}?offset=${after.offset}`;
  const fsck = await run('e2fsck', ['-f', '-y', fsAt], { allowFailure: true, label: 'check the root filesystem' });
  if (fsck.exitCode > 1) throw new Error(`e2fsck of the root filesystem exited ${fsck.exitCode}: ${fsck.stderr.trim()}`);
  const length = fs.statSync(raw).size;
  await run('resize2fs', [fsAt, `${Math.floor(after.size / 1024)}K`], { label: 'grow the root filesystem' });
  // resize2fs sets a file's length to the filesystem's size, not counting the offset: give the disk its
  // length back (and a GPT its backup header, which sat in the cut-off end).
  if (fs.statSync(raw).size !== length) {
    fs.truncateSync(raw, length);
    if (at.gpt) await run('sfdisk', ['--relocate', 'gpt-bak-std', raw], { label: 'rewrite the GPT backup header' });
  }
  const undo = await mountLoop(scope, raw, mnt, after);
  if (!undo) throw new Error(`the grown copy ${raw} does not mount again`);
  say?.(`kiln: the root filesystem had ${(free / MiB).toFixed(0)} MiB free; the image grew by ${(grow / MiB).toFixed(0)} MiB (now ${(freeBytes(mnt) / MiB).toFixed(0)} MiB free)`);
  return undo;
}
