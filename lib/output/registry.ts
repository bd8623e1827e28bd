/**
 * Output formats, one module each. Adding a format is adding its name to formats.ts and one file in
 * formats/ listed here; the Record type makes a missing entry a compile error.
 */
import fs from 'node:fs';
import type { Format } from './formats.js';
import { oci } from './formats/oci.js';
import { qcow2 } from './formats/qcow2.js';
import { raw } from './formats/raw.js';
import { squashfs } from './formats/squashfs.js';
import { tar } from './formats/tar.js';
import { tgz } from './formats/tgz.js';
import { vhd } from './formats/vhd.js';
import { vmdk } from './formats/vmdk.js';
import { run } from '../exec/index.js';
import type { FormatInput, FormatRequest, FormatWriter } from './types.js';
import { partialPathFor } from './atomic.js';

export const WRITERS: Readonly<Record<Format, FormatWriter>> = { qcow2, raw, vhd, vmdk, tar, tgz, squashfs, oci };

export function writerFor(format: Format): FormatWriter {
  return WRITERS[format];
}

/** Writes input.dest in `format`: the module's commands, then its finishing step; its scratch directory goes after. */
export async function writeFormat(format: Format, request: FormatRequest, opts: { label: string; env?: Readonly<Record<string, string | undefined>> }): Promise<void> {
  const writer = writerFor(format);
  const input: FormatInput = { ...request, scratch: partialPathFor(`${request.final}.scratch`) };
  try {
    for (const c of writer.commands(input)) await run(c.cmd, c.args, { label: `${opts.label} (${c.cmd})`, ...(opts.env ? { env: opts.env } : {}) });
    await writer.finish?.(input);
  } finally {
    fs.rmSync(input.scratch, { recursive: true, force: true });
  }
}
