/**
 * lib/rootfs/dev.ts: an image's /dev is emptied (nodes a test cannot mknod without root stand in as files,
 * links and directories as themselves); a /dev that is a link is left alone; a tree without /dev is fine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { emptyImageDev } from '../../../lib/rootfs/dev.js';

describe('emptyImageDev', () => {
  it('removes every entry below /dev and keeps the directory and its mode', () => {
    const tree = tempDir('dev-tree');
    const dev = path.join(tree, 'dev');
    fs.mkdirSync(path.join(dev, 'pts'), { recursive: true });
    fs.mkdirSync(path.join(dev, 'shm'));
    fs.chmodSync(dev, 0o755);
    fs.writeFileSync(path.join(dev, 'null'), '');
    fs.symlinkSync('/proc/self/fd', path.join(dev, 'fd'));
    fs.writeFileSync(path.join(tree, 'keep'), 'x');
    expect(emptyImageDev(tree)).toBe(4);
    expect(fs.readdirSync(dev)).toEqual([]);
    expect(fs.statSync(dev).mode & 0o7777).toBe(0o755);
    expect(fs.readFileSync(path.join(tree, 'keep'), 'utf8')).toBe('x');
  });

  it('leaves a /dev that is a link, and a tree without /dev', () => {
    const tree = tempDir('dev-link');
    const elsewhere = tempDir('dev-elsewhere');
    fs.writeFileSync(path.join(elsewhere, 'null'), '');
    fs.symlinkSync(elsewhere, path.join(tree, 'dev'));
    expect(emptyImageDev(tree)).toBe(0);
    expect(fs.readdirSync(elsewhere)).toEqual(['null']);
    expect(emptyImageDev(tempDir('no-dev'))).toBe(0);
  });
});
