/**
 * The memo's host side (lib/build/memo.ts): entries hooks left are moved into the cache once, a reused entry is
 * refreshed, a half-written or badly named one is ignored, and each kind keeps its newest MEMO_KEEP entries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { collectMemo, MEMO_KEEP, memoOutlook, pruneKind } from '../../../lib/build/memo.js';
import { Logger } from '../../../lib/log/index.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-memo');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const log = new Logger({ json: false, quiet: true });
const key = (n: number) => n.toString(16).padStart(32, '0');

function entry(dir: string, k: string, body = 'initrd'): void {
  fs.mkdirSync(path.join(dir, k), { recursive: true });
  fs.writeFileSync(path.join(dir, k, 'initrd.img'), body);
}

test('new entries are moved in, existing ones kept as they are, other names ignored', () => {
  const out = path.join(work, 'a-out');
  const cache = path.join(work, 'a-cache');
  entry(path.join(cache, 'initramfs'), key(1), 'old');
  entry(path.join(out, 'initramfs'), key(1), 'new');
  entry(path.join(out, 'initramfs'), key(2));
  entry(path.join(out, 'initramfs'), `${key(3)}.part`);
  entry(path.join(out, 'initramfs'), 'not-a-digest');
  collectMemo(out, cache, log);
  expect(fs.readdirSync(path.join(cache, 'initramfs')).sort()).toEqual([key(1), key(2)]);
  expect(fs.readFileSync(path.join(cache, 'initramfs', key(1), 'initrd.img'), 'utf8')).toBe('old');
});

test('a reused entry is refreshed, so pruning keeps it', () => {
  const out = path.join(work, 'b-out');
  const cache = path.join(work, 'b-cache');
  const dir = path.join(cache, 'initramfs');
  for (let i = 0; i < MEMO_KEEP; i++) {
    entry(dir, key(i));
    fs.utimesSync(path.join(dir, key(i)), new Date(1000 * (i + 1)), new Date(1000 * (i + 1)));
  }
  fs.mkdirSync(path.join(out, 'initramfs'), { recursive: true });
  fs.writeFileSync(path.join(out, 'initramfs', `${key(0)}.used`), '');
  entry(path.join(out, 'initramfs'), key(99));
  collectMemo(out, cache, log);
  const left = fs.readdirSync(dir).sort();
  expect(left).toHaveLength(MEMO_KEEP);
  expect(left).toContain(key(0));
  expect(left).toContain(key(99));
  expect(left).not.toContain(key(1));
});

test('pruneKind keeps the newest', () => {
  const dir = path.join(work, 'c');
  for (let i = 0; i < 4; i++) {
    entry(dir, key(i));
    fs.utimesSync(path.join(dir, key(i)), new Date(1000 * (i + 1)), new Date(1000 * (i + 1)));
  }
  expect(pruneKind(dir, 2).sort()).toEqual([key(0), key(1)]);
  expect(fs.readdirSync(dir).sort()).toEqual([key(2), key(3)]);
});

test("kiln plan's memo line: the finalise.d hooks whose text names KILN_MEMO_DIR, and the entries held per kind", () => {
  const hooks = path.join(work, 'd-hooks');
  fs.mkdirSync(hooks, { recursive: true });
  fs.writeFileSync(path.join(hooks, '10-initramfs'), '#!/bin/bash\n[ -d "${KILN_MEMO_DIR:-}" ]\n');
  fs.writeFileSync(path.join(hooks, '99-cleanup'), '#!/bin/bash\napt-get clean\n');
  const cache = path.join(work, 'd-cache');
  entry(path.join(cache, 'kiln', 'memo', 'initramfs'), key(1));
  entry(path.join(cache, 'kiln', 'memo', 'initramfs'), key(2));
  const phases = [{ name: 'finalise.d', hooks: ['10-initramfs', '99-cleanup'].map((name) => ({ name, flavour: 'debian-minimal', path: path.join(hooks, name) })) }];
  expect(memoOutlook(phases, cache)).toEqual({ users: ['[debian-minimal] finalise.d/10-initramfs'], entries: { initramfs: 2 } });
  expect(memoOutlook([], path.join(work, 'none'))).toEqual({ users: [], entries: {} });
});
