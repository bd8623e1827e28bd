/**
 * The build's timestamp for reproducible outputs (SOURCE_DATE_EPOCH): the caller's, else the date of the
 * newest package in the tree (dpkg-deb stamps a package's changelog with its release date), else kiln's
 * fixed default. Every entry of the tree newer than it is clamped to it before the outputs are written, so
 * the same inputs give the same bytes whenever and wherever they are built.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';

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
  const doc = path.join(tree, 'usr/share/doc');
  let newest: { seconds: number; name: string } | undefined;
  let names: string[] = [];
  try {
    names = fs.readdirSync(doc);
  } catch {
    /* no packages */
  }
  for (const name of names) {
    const st = fs.lstatSync(path.join(doc, name, 'changelog.Debian.gz'), { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    const seconds = Math.floor(st.mtimeMs / 1000);
    if (!newest || seconds > newest.seconds || (seconds === newest.seconds && name < newest.name)) newest = { seconds, name };
  }
  if (newest) return { seconds: newest.seconds, from: `the newest package's date (${newest.name})` };
  return { seconds: DEFAULT_EPOCH, from: "kiln's default (no SOURCE_DATE_EPOCH, no packages)" };
}

/** Sets the times of every entry modified after `seconds` (links themselves, not what they name) to it; returns how many. */
export function clampTree(tree: string, seconds: number): number {
  let clamped = 0;
  const visit = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      // proc, sys and dev of the tree hold nothing of the image (the outputs leave their contents out).
      if (e.isDirectory() && !(dir === tree && ['proc', 'sys', 'dev'].includes(e.name))) visit(p);
      if (clampOne(p, seconds)) clamped++;
    }
  };
  visit(tree);
  if (clampOne(tree, seconds)) clamped++;
  return clamped;
}

function clampOne(p: string, seconds: number): boolean {
  if (fs.lstatSync(p).mtimeMs <= seconds * 1000) return false;
  fs.lutimesSync(p, seconds, seconds);
  return true;
}
