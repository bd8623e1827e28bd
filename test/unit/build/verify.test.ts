/** --verify's comparison: the first differing byte of two files, and the tar member an offset falls in. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildFiles, firstDifference, tarMemberAt } from '../../../lib/build/verify.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('unit-verify');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: Buffer | string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
};

test('identical files, a byte changed past the first chunk, and one file a prefix of the other', () => {
  const big = Buffer.alloc(3 * 2 ** 20 + 5, 7);
  const a = file('a', big);
  expect(firstDifference(a, file('same', big))).toBeUndefined();
  const changed = Buffer.from(big);
  changed[2 ** 20 + 12345] = 8;
  expect(firstDifference(a, file('changed', changed))).toBe(2 ** 20 + 12345);
  expect(firstDifference(a, file('short', big.subarray(0, 100)))).toBe(100);
});

test('an offset in a tar names the member whose header or data holds it, long names included', () => {
  const tree = path.join(dir, 'tree');
  const long = `${'d'.repeat(120)}/file-with-a-long-name`;
  fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(tree, path.dirname(long)), { recursive: true });
  fs.writeFileSync(path.join(tree, 'etc', 'a'), 'a'.repeat(1000));
  fs.writeFileSync(path.join(tree, 'etc', 'now'), '1700000000123456789\n');
  fs.writeFileSync(path.join(tree, long), 'LONG-NAMED CONTENT');
  const tar = path.join(dir, 't.tar');
  const r = spawnSync('tar', ['--create', '--file', tar, '--sort=name', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', tree, '.']);
  expect(r.status).toBe(0);
  const bytes = fs.readFileSync(tar);
  const at = (text: string) => bytes.indexOf(Buffer.from(text));
  expect(tarMemberAt(tar, at('1700000000123456789'))).toBe('./etc/now');
  expect(tarMemberAt(tar, at('a'.repeat(1000)) + 999)).toBe('./etc/a');
  expect(tarMemberAt(tar, at('LONG-NAMED CONTENT'))).toBe(`./${long}`);
  expect(tarMemberAt(tar, bytes.length + 10)).toBeUndefined();
});

test('a build\'s files are those named after its output, never another build\'s or a part file', () => {
  for (const n of ['img.tar', 'img.manifest.json', 'img2.tar', '.img.tar.kiln-part-1-2', 'img']) file(n, 'x');
  expect(buildFiles(dir, 'img')).toEqual(['img', 'img.manifest.json', 'img.tar']);
});
