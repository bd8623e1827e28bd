/** Shared by the qemu-img formats: the raw disk they convert from. */
import { failed } from '../../errors/index.js';
import type { FormatInput } from '../types.js';

export function rawSource(input: FormatInput, format: string): string {
  if (input.raw === undefined) throw failed(`${format} output needs a disk image, but this build made none`, { hint: 'add the vm flavour, or choose a tree format (tar, tgz, squashfs)' });
  return input.raw;
}
