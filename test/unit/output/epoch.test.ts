/** SOURCE_DATE_EPOCH for a tree (the caller's, the newest package's date, kiln's default) and clamping a tree to it. */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_EPOCH, clampTree, parseSourceDateEpoch, sourceDateEpoch } from '../../../lib/output/epoch.js';
import { tempDir } from '../../helpers/tmp.js';

const root = tempDir('unit-epoch');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function tree(name: string, packages: Record<string, number>): string {
  const t = path.join(root, name);
  for (const [pkg, seconds] of Object.entries(packages)) {
    const f = path.join(t, 'usr/share/doc', pkg, 'changelog.Debian.gz');
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, 'x');
    fs.utimesSync(f, seconds, seconds);
  }
  fs.mkdirSync(t, { recursive: true });
  return t;
}

test('the caller\'s SOURCE_DATE_EPOCH wins; else the newest package\'s date; else kiln\'s default', () => {
  const t = tree('debian', { bash: 1_680_000_000, zlib1g: 1_690_000_000, apt: 1_685_000_000 });
  expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }, t)).toEqual({ seconds: 1_700_000_000, from: 'SOURCE_DATE_EPOCH' });
  expect(sourceDateEpoch({}, t)).toEqual({ seconds: 1_690_000_000, from: "the newest package's date (zlib1g)" });
  expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' }, tree('bare', {})).seconds).toBe(DEFAULT_EPOCH);
});

test.each(['soon', '-5', '1.5', '17e8'])('SOURCE_DATE_EPOCH=%s is bad input (exit 2) naming the variable', (raw) => {
  expect(() => parseSourceDateEpoch(raw)).toThrow(expect.objectContaining({ kind: 'invalid', message: expect.stringContaining(`SOURCE_DATE_EPOCH: "${raw}"`) }));
});

test("clamping sets every newer entry (links themselves) to the epoch and leaves older ones alone; an image root's proc, sys and dev are not entered", () => {
  const t = tree('clamp', {});
  fs.mkdirSync(path.join(t, 'etc'));
  fs.writeFileSync(path.join(t, 'etc', 'new'), 'n');
  fs.writeFileSync(path.join(t, 'etc', 'old'), 'o');
  fs.utimesSync(path.join(t, 'etc', 'old'), 1_000_000_000, 1_000_000_000);
  fs.symlinkSync('new', path.join(t, 'etc', 'link'));
  fs.mkdirSync(path.join(t, 'proc', 'self'), { recursive: true });
  fs.mkdirSync(path.join(t, 'dev'));
  fs.writeFileSync(path.join(t, 'dev', 'console'), '');
  const { clamped: n, fingerprint } = clampTree(t, 1_500_000_000, { imageRoot: true });
  expect(n).toBe(6); // etc/new, etc/link, etc, proc, dev, the root (proc's and dev's contents are left out of every output)
  const m = (rel: string) => Math.floor(fs.lstatSync(path.join(t, rel)).mtimeMs / 1000);
  expect([m('etc/new'), m('etc/link'), m('etc'), m('.'), m('etc/old')]).toEqual([1_500_000_000, 1_500_000_000, 1_500_000_000, 1_500_000_000, 1_000_000_000]);
  expect([m('proc/self'), m('dev/console')].every((s) => s > 1_500_000_000)).toBe(true);
  expect(clampTree(t, 1_500_000_000, { imageRoot: true })).toEqual({ clamped: 0, fingerprint });
  // Any other tree (a ramdisk's staging tree: its dev/console is in the cpio) is clamped whole.
  expect(clampTree(t, 1_500_000_000, { fingerprint: false })).toEqual({ clamped: 2, fingerprint: '' });
  expect([m('proc/self'), m('dev/console')]).toEqual([1_500_000_000, 1_500_000_000]);
});

test("the tree's fingerprint: the same for the same tree wherever and in whatever order it was made; any change of name, mode, owner, time, target or build-written content changes it", () => {
  const make = (name: string, order: 'ab' | 'ba') => {
    const t = tree(name, {});
    const files = order === 'ab' ? ['a', 'b'] : ['b', 'a'];
    fs.mkdirSync(path.join(t, 'etc'));
    for (const f of files) fs.writeFileSync(path.join(t, 'etc', f), `content of ${f}`);
    fs.writeFileSync(path.join(t, 'etc', 'pkg'), 'from a package');
    fs.utimesSync(path.join(t, 'etc', 'pkg'), 1_000_000_000, 1_000_000_000);
    fs.symlinkSync('a', path.join(t, 'etc', 'l'));
    // Entries once made and removed leave a directory bigger on the host: not part of the tree.
    if (order === 'ba') {
      for (let i = 0; i < 200; i++) {
        const tmp = path.join(t, 'etc', `tmp-${i}-${'x'.repeat(100)}`);
        fs.writeFileSync(tmp, '');
        fs.rmSync(tmp);
      }
    }
    return t;
  };
  const E = 1_500_000_000;
  const a = make('fp-a', 'ab');
  const b = make('fp-b', 'ba');
  const fp = (t: string) => clampTree(t, E).fingerprint;
  const base = fp(a);
  expect(fp(b)).toBe(base);
  const changes: [string, (t: string) => void][] = [
    ['content written by the build', (t) => fs.writeFileSync(path.join(t, 'etc', 'a'), 'content of A')],
    ['mode', (t) => fs.chmodSync(path.join(t, 'etc', 'a'), 0o600)],
    ['a package file\'s time', (t) => fs.utimesSync(path.join(t, 'etc', 'pkg'), 1_000_000_001, 1_000_000_001)],
    ['link target', (t) => { fs.rmSync(path.join(t, 'etc', 'l')); fs.symlinkSync('b', path.join(t, 'etc', 'l')); }],
    ['name', (t) => fs.renameSync(path.join(t, 'etc', 'b'), path.join(t, 'etc', 'c'))],
    // Only root can give a file away.
    ...(process.getuid?.() === 0 ? [['owner', (t: string) => fs.lchownSync(path.join(t, 'etc', 'a'), 1, 1)] as [string, (t: string) => void]] : []),
  ];
  for (const [what, change] of changes) {
    const t = make(`fp-${what.replace(/\W/g, '')}`, 'ab');
    change(t);
    expect([what, fp(t)]).not.toEqual([what, base]);
  }
});
