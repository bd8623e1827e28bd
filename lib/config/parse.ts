import { invalid } from '../errors/index.js';
import { FORMATS, isFormat, type Format } from '../output/formats.js';
import { DEBIAN_ARCHES, debianArch } from '../distro/arch.js';

/** Parsers for setting values. Each names the setting (`where`) in its error. */

export function parseBool(raw: string, where: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw invalid(`${where}: "${raw}" is not a boolean (use 1/0, true/false, yes/no)`);
}

export function parseList(raw: string): string[] {
  return raw
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseFormats(raw: string, where: string): Format[] {
  const out: Format[] = [];
  for (const item of parseList(raw)) {
    if (!isFormat(item)) throw invalid(`${where}: unknown output format "${item}" (known: ${FORMATS.join(', ')})`);
    if (!out.includes(item)) out.push(item);
  }
  if (out.length === 0) throw invalid(`${where}: no output format given (known: ${FORMATS.join(', ')})`);
  return out;
}

const SIZE_UNITS: Record<string, number> = { '': 2 ** 30, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * An image size in bytes. A bare number is GiB, as diskimage-builder's --image-size; a K/M/G/T suffix
 * (optionally followed by B or iB) is also accepted: "2", "2.5", "512M", "3GiB".
 */
export function parseSize(raw: string, where: string, what = 'an image'): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(raw);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw invalid(`${where}: "${raw}" is not a size (examples: 2, 2.5, 512M, 3G)`);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes < 2 ** 20) throw invalid(`${where}: "${raw}" is too small for ${what} (at least 1M)`);
  return bytes;
}

/** Debian's name for an architecture (x86_64 → amd64). */
export function parseArch(raw: string, where: string): string {
  const arch = debianArch(raw);
  if (!arch) throw invalid(`${where}: unknown architecture "${raw}" (known: ${DEBIAN_ARCHES.join(', ')})`);
  return arch;
}

export function hostArch(): string {
  return debianArch(process.arch) ?? process.arch;
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (raw: string, where: string): T => {
    const v = raw.trim() as T;
    if (!choices.includes(v)) throw invalid(`${where}: "${raw}" is not one of ${choices.join(', ')}`);
    return v;
  };
}

export function parseSeconds(raw: string, where: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw invalid(`${where}: "${raw}" is not a positive number of seconds`);
  return n;
}
