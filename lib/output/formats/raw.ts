/** raw: a sparse copy of the disk (qemu-img skips zero runs and writes in parallel). */
import type { FormatWriter } from '../types.js';
import { rawSource } from './disk-source.js';

export const raw: FormatWriter = {
  format: 'raw',
  commands: (input) => [{ cmd: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'raw', '-W', rawSource(input, 'raw'), input.dest] }],
};
