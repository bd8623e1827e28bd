/**
 * vhd (qemu's "vpc"): dynamic, with force_size so the virtual size is exactly the raw disk's
 * (without it qemu rounds to a CHS geometry and the size changes; Azure and Hyper-V want whole MiB).
 */
import type { FormatWriter } from '../types.js';
import { rawSource } from './disk-source.js';

export const vhd: FormatWriter = {
  format: 'vhd',
  commands: (input) => [
    { cmd: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', rawSource(input, 'vhd'), input.dest] },
  ],
};
