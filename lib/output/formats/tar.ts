/**
 * tar of the root tree: numeric owners, xattrs (file capabilities) and ACLs kept, names sorted for
 * reproducibility, the contents of ./proc ./sys ./dev left out (their directories stay).
 */
import type { FormatInput, FormatWriter } from '../types.js';

export const TREE_EXCLUDES = ['./proc/*', './sys/*', './dev/*'] as const;

export function tarArgs(input: FormatInput, extra: readonly string[] = []): string[] {
  return [
    '--create', '--file', input.dest,
    '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sort=name',
    ...extra,
    '--anchored', ...TREE_EXCLUDES.map((p) => `--exclude=${p}`),
    '--directory', input.tree, '.',
  ];
}

export const tar: FormatWriter = {
  format: 'tar',
  commands: (input) => [{ cmd: 'tar', args: tarArgs(input) }],
};
