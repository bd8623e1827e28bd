/**
 * vmdk, streamOptimized: the subformat VMware ESXi/vSphere import (OVF, content libraries) and
 * OpenStack's VMware driver (vmware_disktype=streamOptimized) accept as uploaded, compressed and
 * single-file; QEMU/KVM reads it too. monolithicSparse works in Workstation but ESXi must convert it
 * first. Written sequentially (no -W: a stream-optimized file must be written in order).
 */
import type { FormatWriter } from '../types.js';
import { rawSource } from './disk-source.js';

export const vmdk: FormatWriter = {
  format: 'vmdk',
  commands: (input) => [
    { cmd: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic', rawSource(input, 'vmdk'), input.dest] },
  ],
};
