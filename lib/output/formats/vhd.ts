/**
 * vhd (qemu's "vpc"): dynamic, with force_size so the virtual size is exactly the raw disk's
 * (without it qemu rounds to a CHS geometry and the size changes; Azure and Hyper-V want whole MiB).
 * qemu-img stamps the footer with the clock and a random UUID; finish() puts the epoch and a UUID derived
 * from the tree there instead (both footer copies: the file's first and last 512 bytes), so the file is
 * reproducible.
 */
import fs from 'node:fs';
import { contentUuid } from '../content-id.js';
import type { FormatWriter } from '../types.js';
import { rawSource } from './disk-source.js';

export const vhd: FormatWriter = {
  format: 'vhd',
  commands: (input) => [
    { cmd: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', rawSource(input, 'vhd'), input.dest] },
  ],
  finish: (input) => {
    if (input.epoch === undefined || input.seed === undefined) return;
    stampVhdFooters(input.dest, input.epoch, contentUuid(`kiln vhd\0${input.seed}`));
  },
};

const FOOTER = 512;
/** VHD times count seconds from 2000-01-01T00:00:00Z. */
const VHD_EPOCH = 946684800;

/** Sets a VHD footer's timestamp and UUID and recomputes its checksum; throws when `footer` is not one. */
export function stampVhdFooter(footer: Buffer, epoch: number, uuid: string): void {
  if (footer.toString('latin1', 0, 8) !== 'conectix') throw new Error('not a VHD footer (no "conectix" cookie)');
  footer.writeUInt32BE(Math.max(0, epoch - VHD_EPOCH), 24);
  Buffer.from(uuid.replaceAll('-', ''), 'hex').copy(footer, 68);
  footer.writeUInt32BE(0, 64);
  let sum = 0;
  for (const b of footer) sum += b;
  footer.writeUInt32BE(~sum >>> 0, 64);
}

function stampVhdFooters(file: string, epoch: number, uuid: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    const footer = Buffer.alloc(FOOTER);
    // A dynamic VHD starts with a copy of the footer; a fixed one has it only at the end.
    for (const at of size >= 2 * FOOTER ? [0, size - FOOTER] : [size - FOOTER]) {
      fs.readSync(fd, footer, 0, FOOTER, at);
      if (at === 0 && footer.toString('latin1', 0, 8) !== 'conectix') continue;
      stampVhdFooter(footer, epoch, uuid);
      fs.writeSync(fd, footer, 0, FOOTER, at);
    }
  } finally {
    fs.closeSync(fd);
  }
}
