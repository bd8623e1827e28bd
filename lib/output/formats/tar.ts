/**
 * tar of the root tree: numeric owners, xattrs (file capabilities) and ACLs kept, the contents of ./proc
 * ./sys ./dev left out (their directories stay). Reproducible: names sorted, POSIX headers without access
 * and change times and without the process id in their names, times clamped to SOURCE_DATE_EPOCH.
 */
import type { FormatInput, FormatWriter } from '../types.js';

export const TREE_EXCLUDES = ['./proc/*', './sys/*', './dev/*'] as const;

export function tarArgs(input: FormatInput, extra: readonly string[] = []): string[] {
  return [
    '--create', '--file', input.dest,
    '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sort=name',
    '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    ...(input.epoch === undefined ? [] : [`--mtime=@${input.epoch}`, '--clamp-mtime']),
    ...extra,
    '--anchored', ...TREE_EXCLUDES.map((p) => `--exclude=${p}`),
    '--directory', input.tree, '.',
  ];
}

export const tar: FormatWriter = {
  format: 'tar',
  commands: (input) => [{ cmd: 'tar', args: tarArgs(input) }],
};
