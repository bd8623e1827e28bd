/**
 * `--verify`: the build is made a second time with --no-cache in a directory of its own, and every file the
 * two builds wrote (outputs, manifest, SBOM) is compared byte for byte. A difference is reported with the
 * first differing offset, the tar member it falls in (tar outputs) or, for disk images, the disk byte and the
 * file or filesystem structure it belongs to, and diffoscope's account when Debian's diffoscope is installed. The second build's directory is removed either way.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/config.js';
import { failed } from '../errors/index.js';
import { hasCommand, run } from '../exec/index.js';
import { describeDiskOffset } from '../disk/locate.js';
import { makeBuildPlan, type BuildKind } from '../plan/build-plan.js';
import { runBuild } from './run.js';
import { withTempDir } from '../scope/temp.js';

/**
 * After a build: builds again with --no-cache under OUTPUT_DIR/.kiln-verify-XXXX/ (same file names, so the
 * SBOM's name matches), compares, reports, and removes the second build. Throws (exit 1) if a file differs.
 */
export async function verifyBuild(config: BuildConfig, flavours: readonly string[], kind: BuildKind): Promise<void> {
  const out = path.resolve(config.settings.output);
  const base = path.basename(out);
  const say = (line: string) => (config.settings.json ? process.stderr : process.stdout).write(`${line}\n`);
  // Beside the output (the same filesystem, the same names), removed whatever happens.
  await withTempDir('.kiln-verify', async (dir) => {
    const second: BuildConfig = { ...config, settings: { ...config.settings, cache: false, boot: false, verify: false, output: path.join(dir, base) } };
    say(`kiln: --verify: building again with --no-cache in ${dir}`);
    await runBuild(second, makeBuildPlan(second, [...flavours], kind));
    const verdicts = await compareBuilds(path.dirname(out), base, dir, base);
    for (const v of verdicts) say(`  ${v.difference === undefined ? 'identical' : 'DIFFERS  '}  ${v.name}${v.difference === undefined ? '' : `: ${v.difference}`}`);
    const differ = verdicts.filter((v) => v.difference !== undefined);
    if (differ.length > 0) {
      throw failed(`--verify: ${differ.length} of ${verdicts.length} files differ between the build and its --no-cache rebuild: ${differ.map((v) => v.name).join(', ')}`, {
        hint: 'install diffoscope (Debian: diffoscope-minimal) for a full account of each difference',
      });
    }
    say(`kiln: --verify: all ${verdicts.length} files identical to a --no-cache rebuild`);
  }, path.dirname(out));
}

export interface FileVerdict {
  readonly name: string;
  /** undefined: identical. */
  readonly difference?: string;
}

/** Files of a build: those in dir whose name is the output's base name or starts with it plus a dot. */
export function buildFiles(dir: string, base: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => (n === base || n.startsWith(`${base}.`)) && !n.includes('.kiln-part-') && fs.statSync(path.join(dir, n)).isFile())
    .sort();
}

/** The first offset at which two files differ, or undefined when they are identical (sizes included). */
export function firstDifference(a: string, b: string): number | undefined {
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const size = 1 << 20;
    const ba = Buffer.alloc(size);
    const bb = Buffer.alloc(size);
    for (let offset = 0; ; offset += size) {
      const na = fs.readSync(fa, ba, 0, size, offset);
      const nb = fs.readSync(fb, bb, 0, size, offset);
      const n = Math.min(na, nb);
      if (ba.subarray(0, n).equals(bb.subarray(0, n))) {
        if (na !== nb) return offset + n;
        if (na === 0) return undefined;
        continue;
      }
      for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return offset + i;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** The member of an uncompressed tar whose header or data holds `offset` (POSIX/GNU headers read as ustar). */
export function tarMemberAt(tar: string, offset: number): string | undefined {
  const fd = fs.openSync(tar, 'r');
  try {
    const header = Buffer.alloc(512);
    let pos = 0;
    let longName: string | undefined;
    for (;;) {
      if (fs.readSync(fd, header, 0, 512, pos) < 512 || header.every((x) => x === 0)) return undefined;
      const field = (start: number, len: number) => header.subarray(start, start + len).toString('latin1').replace(/\0.*$/s, '');
      const size = parseInt(field(124, 12).trim() || '0', 8);
      const type = field(156, 1);
      const prefix = field(345, 155);
      const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      const end = pos + 512 + Math.ceil(size / 512) * 512;
      // Extended headers (x: POSIX pax, L: GNU long name) describe the member after them.
      if (type === 'x' || type === 'L') {
        const body = Buffer.alloc(size);
        fs.readSync(fd, body, 0, size, pos + 512);
        const text = body.toString('utf8');
        longName = type === 'L' ? text.replace(/\0.*$/s, '') : (/(?:^|\n)\d+ path=([^\n]*)\n/.exec(text)?.[1] ?? longName);
        if (offset < end) return `the extended header of the next member (${nextName(fd, end) ?? '?'})`;
        pos = end;
        continue;
      }
      if (offset < end) return name;
      longName = undefined;
      pos = end;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function nextName(fd: number, pos: number): string | undefined {
  const header = Buffer.alloc(512);
  if (fs.readSync(fd, header, 0, 512, pos) < 512) return undefined;
  return header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '') || undefined;
}

/** Compares the files two builds wrote (same names in dirA and dirB). */
export async function compareBuilds(dirA: string, baseA: string, dirB: string, baseB: string): Promise<FileVerdict[]> {
  const a = buildFiles(dirA, baseA).filter((n) => !/\.(md5|sha256)$/.test(n));
  const b = new Set(buildFiles(dirB, baseB).map((n) => n.slice(baseB.length)));
  const diffoscope = await hasCommand('diffoscope');
  const out: FileVerdict[] = [];
  for (const name of a) {
    const suffix = name.slice(baseA.length);
    const other = path.join(dirB, `${baseB}${suffix}`);
    if (!b.has(suffix)) {
      out.push({ name, difference: 'the second build did not write it' });
      continue;
    }
    const at = firstDifference(path.join(dirA, name), other);
    if (at === undefined) {
      out.push({ name });
      continue;
    }
    const member = name.endsWith('.tar') ? tarMemberAt(path.join(dirA, name), at) : undefined;
    let difference = `first difference at byte ${at}${member ? ` (in ${member})` : ''}`;
    const disk = DISK_SUFFIXES[path.extname(name)];
    if (disk) difference += `; ${await diskDifference(path.join(dirA, name), other, disk, dirB)}`;
    if (diffoscope) {
      const r = await run('diffoscope', ['--text', '-', '--max-text-report-size', '4000', path.join(dirA, name), other], { allowFailure: true, label: 'diffoscope', timeoutMs: 600_000 });
      const lines = r.stdout.split('\n').filter((l) => l.trim() !== '').slice(0, 40);
      if (lines.length > 0) difference += `\n${lines.map((l) => `      ${l}`).join('\n')}`;
    }
    out.push({ name, difference });
  }
  return out;
}

const DISK_SUFFIXES: Readonly<Record<string, string>> = { '.raw': 'raw', '.qcow2': 'qcow2', '.vhd': 'vpc', '.vmdk': 'vmdk' };

/**
 * Where two disk images of a format differ as disks: the first differing byte of the disk they hold (qemu-img
 * compare) and what it belongs to (lib/disk/locate.ts), or that only the container differs.
 */
export async function diskDifference(a: string, b: string, format: string, scratch: string): Promise<string> {
  const cmp = await run('qemu-img', ['compare', '-f', format, '-F', format, a, b], { allowFailure: true, label: 'qemu-img compare' });
  if (cmp.exitCode === 0) return `the disks they hold are identical: only the ${format} container differs`;
  const at = /Content mismatch at offset (\d+)/.exec(cmp.stdout)?.[1];
  if (at === undefined) return `qemu-img compare: ${(cmp.stdout + cmp.stderr).trim().split('\n')[0] ?? ''}`;
  let raw = a;
  if (format !== 'raw') {
    raw = path.join(scratch, '.kiln-verify-locate.raw');
    await run('qemu-img', ['convert', '-f', format, '-O', 'raw', a, raw], { label: 'qemu-img convert (locate a difference)' });
  }
  try {
    return `the disks first differ at disk byte ${at}: ${await describeDiskOffset(raw, Number(at))}`;
  } finally {
    if (raw !== a) fs.rmSync(raw, { force: true });
  }
}
