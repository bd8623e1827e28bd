/** tgz: the tar, compressed by pigz (parallel) when present, else gzip; -n: no name or time stamp. */
import type { FormatWriter } from '../types.js';
import { tarArgs } from './tar.js';

export const tgz: FormatWriter = {
  format: 'tgz',
  prefers: ['pigz'],
  commands: (input) => [{ cmd: 'tar', args: tarArgs(input, [`--use-compress-program=${input.tools.has('pigz') ? 'pigz' : 'gzip'} -n`]) }],
};
