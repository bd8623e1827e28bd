/**
 * vmdk, streamOptimized: the subformat VMware ESXi/vSphere import (OVF, content libraries) and
 * OpenStack's VMware driver (vmware_disktype=streamOptimized) accept as uploaded, compressed and
 * single-file; QEMU/KVM reads it too. monolithicSparse works in Workstation but ESXi must convert it
 * first. Written sequentially (no -W: a stream-optimized file must be written in order).
 * qemu-img writes a random content id (CID) and the name of the file it wrote (kiln's temporary name) into
 * the embedded descriptor; finish() puts a CID derived from the tree and the output's own name there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { contentHex } from '../content-id.js';
import type { FormatWriter } from '../types.js';
import { rawSource } from './disk-source.js';

export const vmdk: FormatWriter = {
  format: 'vmdk',
  commands: (input) => [
    { cmd: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic', rawSource(input, 'vmdk'), input.dest] },
  ],
  finish: (input) => {
    const cid = input.seed === undefined ? undefined : contentHex(`kiln vmdk\0${input.seed}`, 8);
    rewriteVmdkDescriptor(input.dest, (text) => fixDescriptor(text, path.basename(input.final), cid));
  },
};

const SECTOR = 512;

/** The descriptor with the extent's file name (of a one-extent, single-file vmdk) and, when given, the CID replaced. */
export function fixDescriptor(text: string, fileName: string, cid: string | undefined): string {
  const quoted = fileName.replaceAll('"', '');
  let out = text.replace(/^(RW|RDONLY|NOACCESS) (\d+) (SPARSE|FLAT|ZERO|VMFS\w*) "[^"\n]*"/m, (_m, access: string, size: string, kind: string) => `${access} ${size} ${kind} "${quoted}"`);
  if (cid !== undefined) out = out.replace(/^CID=[0-9a-fA-F]+$/m, `CID=${cid}`);
  return out;
}

/** Rewrites the descriptor embedded in a sparse vmdk (header "KDMV") in place, within its reserved sectors. */
export function rewriteVmdkDescriptor(file: string, edit: (text: string) => string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const header = Buffer.alloc(SECTOR);
    fs.readSync(fd, header, 0, SECTOR, 0);
    if (header.toString('latin1', 0, 4) !== 'KDMV') throw new Error(`${file}: not a sparse vmdk (no KDMV header)`);
    const offset = Number(header.readBigUInt64LE(28)) * SECTOR;
    const size = Number(header.readBigUInt64LE(36)) * SECTOR;
    if (offset === 0 || size === 0) return;
    const area = Buffer.alloc(size);
    fs.readSync(fd, area, 0, size, offset);
    const end = area.indexOf(0);
    const text = area.toString('latin1', 0, end < 0 ? size : end);
    const next = Buffer.from(edit(text), 'latin1');
    if (next.length > size) throw new Error(`${file}: the rewritten vmdk descriptor (${next.length} bytes) does not fit its ${size} bytes`);
    const out = Buffer.alloc(size);
    next.copy(out);
    fs.writeSync(fd, out, 0, size, offset);
  } finally {
    fs.closeSync(fd);
  }
}
