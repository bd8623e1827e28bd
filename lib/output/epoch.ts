/**
 * The build's timestamp for reproducible outputs (SOURCE_DATE_EPOCH): the caller's, else the date of the
 * newest package in the tree (dpkg-deb stamps a package's changelog with its release date), else kiln's
 * fixed default. Every entry of the tree newer than it is clamped to it before the outputs are written, so
 * the same inputs give the same bytes whenever and wherever they are built.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { hostPath } from '../rootfs/paths.js';

/** 2020-01-01T00:00:00Z: for trees without packages (busybox) and no SOURCE_DATE_EPOCH. */
export const DEFAULT_EPOCH = 1577836800;

export interface Epoch {
  readonly seconds: number;
  /** Where it came from, for the log. */
  readonly from: string;
}

/** The caller's SOURCE_DATE_EPOCH in seconds, or undefined when unset; anything but a whole number is bad input (exit 2). */
export function parseSourceDateEpoch(raw: string | undefined): number | undefined {
  const v = raw?.trim();
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,12}$/.test(v)) throw invalid(`SOURCE_DATE_EPOCH: "${v}" is not a whole number of seconds since 1970-01-01`, 'e.g. SOURCE_DATE_EPOCH=$(date +%s), or unset it');
  return Number(v);
}

export function sourceDateEpoch(env: Readonly<Record<string, string | undefined>>, tree: string): Epoch {
  const given = parseSourceDateEpoch(env.SOURCE_DATE_EPOCH);
  if (given !== undefined) return { seconds: given, from: 'SOURCE_DATE_EPOCH' };
  const doc = hostPath(tree, 'usr/share/doc');
  let newest: { seconds: number; name: string } | undefined;
  let names: string[] = [];
  try {
    names = fs.readdirSync(doc);
  } catch {
    /* no packages */
  }
  for (const name of names) {
    // A package's doc directory may be a link (to another package's): followed inside the tree only.
    const st = fs.lstatSync(hostPath(tree, `usr/share/doc/${name}/changelog.Debian.gz`, { keepLast: true }), { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    const seconds = Math.floor(st.mtimeMs / 1000);
    if (!newest || seconds > newest.seconds || (seconds === newest.seconds && name < newest.name)) newest = { seconds, name };
  }
  if (newest) return { seconds: newest.seconds, from: `the newest package's date (${newest.name})` };
  return { seconds: DEFAULT_EPOCH, from: "kiln's default (no SOURCE_DATE_EPOCH, no packages)" };
}

export interface ClampedTree {
  /** How many entries were newer than the epoch and were set to it. */
  readonly clamped: number;
  /**
   * SHA-256 (hex) of the clamped tree: every entry's path, type, mode, owner, size, time and link target, in
   * byte order of names, and the content of every file whose time is the epoch (what the build wrote; the
   * packages' files are known by their dates and sizes). The same tree, the same fingerprint: the seed of
   * the disk's identifiers.
   */
  readonly fingerprint: string;
}

export interface ClampOptions {
  /** false: clamp only (the fingerprint is ''). */
  readonly fingerprint?: boolean;
  /**
   * The tree is an image's root: what its proc, sys and dev hold is not the image's (the outputs leave it
   * out), so those three are clamped but not entered. Any other tree (a ramdisk's staging tree, whose dev
   * holds the console the cpio carries) is walked whole.
   */
  readonly imageRoot?: boolean;
}

/**
 * Sets the times of every entry modified after `seconds` (links themselves, not what they name) to it, and
 * fingerprints the result.
 */
export function clampTree(tree: string, seconds: number, opts: ClampOptions = {}): ClampedTree {
  const fingerprinting = opts.fingerprint !== false;
  const outside = opts.imageRoot ? ['proc', 'sys', 'dev'] : [];
  let clamped = 0;
  const hash = crypto.createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const visit = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort(byBytes);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(p);
      if (clampOne(p, st, seconds)) clamped++;
      if (fingerprinting) record(hash, r, st, p, seconds, buf);
      if (st.isDirectory() && !(rel === '' && outside.includes(name))) visit(p, r);
    }
  };
  const st = fs.lstatSync(tree);
  if (clampOne(tree, st, seconds)) clamped++;
  record(hash, '.', st, tree, seconds, buf);
  visit(tree, '');
  return { clamped, fingerprint: fingerprinting ? hash.digest('hex') : '' };
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function record(hash: crypto.Hash, rel: string, st: fs.Stats, p: string, seconds: number, buf: Buffer): void {
  const mtime = Math.min(Math.floor(st.mtimeMs / 1000), seconds);
  // A directory's size is its history on the host's filesystem (entries once there), not its content.
  const size = st.isDirectory() ? 0 : st.size;
  hash.update(`${rel}\0${st.mode.toString(8)} ${st.uid}:${st.gid} ${size} ${mtime} ${st.isCharacterDevice() || st.isBlockDevice() ? st.rdev : 0}\0`);
  if (st.isSymbolicLink()) hash.update(`-> ${fs.readlinkSync(p)}\0`);
  else if (st.isFile() && mtime === seconds) hashContent(hash, p, buf);
}

function hashContent(hash: crypto.Hash, file: string, buf: Buffer): void {
  const fd = fs.openSync(file, 'r');
  try {
    for (let n = fs.readSync(fd, buf, 0, buf.length, null); n > 0; n = fs.readSync(fd, buf, 0, buf.length, null)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  hash.update('\0');
}

function clampOne(p: string, st: fs.Stats, seconds: number): boolean {
  if (st.mtimeMs <= seconds * 1000) return false;
  fs.lutimesSync(p, seconds, seconds);
  return true;
}
