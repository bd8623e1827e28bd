/** md5 and sha256 in one read of the file; written as FILE.md5 / FILE.sha256 in md5sum/sha256sum format. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Checksums {
  readonly md5: string;
  readonly sha256: string;
}

export async function hashFile(file: string): Promise<Checksums> {
  const md5 = crypto.createHash('md5');
  const sha256 = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** The line md5sum -c / sha256sum -c read: "<hex>  <file name>". */
export function renderChecksumLine(hex: string, file: string): string {
  return `${hex}  ${path.basename(file)}\n`;
}
