/**
 * `kiln pack --list` and `kiln pack --help SPEC`: what the specs on the spec path offer. `--list` shows
 * every spec that loads and names every one that does not, with all its problems (exit 1 when any does
 * not); `--help` on a spec with problems is exit 2 with every problem.
 */
import fs from 'node:fs';
import { failed } from '../../errors/index.js';
import { findSpec, listSpecs, specRoots, splitOperands, type SpecEntry } from '../../spec/catalog.js';
import { argumentInfo, brokenLines, helpText, listingLines, shownArguments } from '../../spec/describe.js';
import { loadSpec, readSpec } from '../../spec/load.js';
import { formatIssue, type Spec, type SpecIssue } from '../../spec/types.js';
import { helpOperands } from './pack.js';

export const isFile = (p: string): boolean => fs.existsSync(p) && fs.statSync(p).isFile();

/**
 * `kiln pack --help SPEC` (or `--help PLUGIN VERSION`): the spec's arguments as options, and its notes.
 * A spec that cannot be found or loaded throws (exit 2, every problem listed) after the general help.
 */
export function specHelp(tokens: readonly string[]): string {
  const operands = helpOperands(tokens);
  if (operands.length === 0) return '';
  const split = splitOperands(operands, isFile);
  const file = 'file' in split.spec ? split.spec.file : findSpec(specRoots(process.env), split.spec.plugin, split.spec.version).file;
  return helpText(loadSpec(file, { resourceRoots: [] }));
}

type Loaded = { readonly entry: SpecEntry; readonly spec: Spec } | { readonly entry: SpecEntry; readonly issues: readonly SpecIssue[] };

function loadEach(entries: readonly SpecEntry[]): Loaded[] {
  return entries.map((entry) => {
    const r = readSpec(entry.file, { resourceRoots: [] });
    return r.ok ? { entry, spec: r.spec } : { entry, issues: r.issues };
  });
}

function jsonRow(l: Loaded, all: boolean): object {
  const { plugin, version, file } = l.entry;
  if (!('spec' in l)) return { plugin, version, file, ok: false, problems: l.issues.map(formatIssue) };
  const shown = shownArguments(l.spec, all);
  return { plugin, version, file, ok: true, arguments: shown.map(argumentInfo), hiddenArguments: l.spec.arguments.size - shown.length, notes: l.spec.notes.map(formatIssue) };
}

/** `kiln pack --list [--all] [--json]`: every PLUGIN VERSION on the spec path; exit 1 when any cannot be loaded. */
export function listAll(json: boolean, all: boolean, write: (text: string) => void): void {
  const loaded = loadEach(listSpecs(specRoots(process.env)));
  if (json) write(`${JSON.stringify(loaded.map((l) => jsonRow(l, all)))}\n`);
  else if (loaded.length === 0) write('no specs on the spec path (KILN_SPEC_PATH, then each flavour\'s specs/ directory)\n');
  else {
    for (const l of loaded) {
      const head = `${l.entry.plugin} ${l.entry.version}  ${l.entry.file}`;
      write(`${('spec' in l ? listingLines(head, l.spec, all) : brokenLines(head, l.issues)).join('\n')}\n`);
    }
  }
  const broken = loaded.filter((l) => !('spec' in l)).map((l) => `${l.entry.plugin} ${l.entry.version}`);
  if (broken.length > 0) throw failed(`${broken.length} of ${loaded.length} specs on the spec path cannot be loaded: ${broken.join(', ')}`);
}
