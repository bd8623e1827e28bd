/**
 * The step cache on disk with real tar and zstd: store, restore, lineage, size limit, leftovers of dead
 * builds, and an entry that another build is storing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StepCache } from '../../../lib/cache/store.js';
import { tempDir } from '../../helpers/tmp.js';

const root = tempDir('unit-store');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const cache = new StepCache(path.join(root, 'steps'));

function tree(name: string, content: string): string {
  const t = path.join(root, name);
  fs.mkdirSync(path.join(t, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(t, 'etc', 'file'), content);
  fs.writeFileSync(path.join(t, 'tool'), '#!/bin/sh\n', { mode: 0o750 });
  fs.symlinkSync('etc/file', path.join(t, 'link'));
  return t;
}
const key = (c: string) => c.repeat(32);
const meta = (k: string) => ({ key: k, step: 'install' as const, inputs: { a: '1' }, values: { IMAGE_SIZE: '2' }, output: '/tmp/x', flavours: ['one'], seconds: 1 });

test('a stored tree restores identically, with modes, links and the printed values', async () => {
  const t = tree('t1', 'one\n');
  const bytes = await cache.store(t, meta(key('a')));
  expect(bytes).toBeGreaterThan(0);
  expect(cache.get(key('a'))?.values).toEqual({ IMAGE_SIZE: '2' });
  const into = path.join(root, 'r1');
  expect(await cache.restore(key('a'), into)).toBe(true);
  expect(fs.readFileSync(path.join(into, 'etc', 'file'), 'utf8')).toBe('one\n');
  expect(fs.statSync(path.join(into, 'tool')).mode & 0o777).toBe(0o750);
  expect(fs.readlinkSync(path.join(into, 'link'))).toBe('etc/file');
  expect(fs.readdirSync(cache.dir).filter((n) => n.includes('.pin-') || n.includes('kiln-part'))).toEqual([]);
  // Storing the same key again writes nothing.
  expect(await cache.store(t, meta(key('a')))).toBeUndefined();
});

test('a missing or pruned entry restores nothing', async () => {
  expect(cache.get(key('f'))).toBeUndefined();
  expect(await cache.restore(key('f'), path.join(root, 'r2'))).toBe(false);
});

test('another live build storing a key: this one skips it; a dead one\'s lock is taken over', async () => {
  fs.mkdirSync(cache.dir, { recursive: true });
  const lock = path.join(cache.dir, `${key('b')}.lock`);
  fs.writeFileSync(lock, JSON.stringify({ pid: 1, start: fs.readFileSync('/proc/1/stat', 'utf8').split(') ')[1]?.split(' ')[19] }));
  expect(await cache.store(tree('t2', 'two\n'), meta(key('b')))).toBeUndefined();
  fs.writeFileSync(lock, JSON.stringify({ pid: 999999, start: '1' }));
  expect(await cache.store(path.join(root, 't2'), meta(key('b')))).toBeGreaterThan(0);
  expect(fs.existsSync(lock)).toBe(false);
});

test('lineage keeps the last good inputs of a step per output', () => {
  expect(cache.lineage('install', '/tmp/x')).toBeUndefined();
  cache.recordLineage('install', '/tmp/x', key('a'), { a: '1' });
  cache.recordLineage('install', '/tmp/x', key('b'), { a: '2' });
  expect(cache.lineage('install', '/tmp/x')).toEqual({ key: key('b'), inputs: { a: '2' }, output: '/tmp/x' });
  expect(cache.lineage('finalise', '/tmp/x')).toBeUndefined();
});

test('prune: least recently used first down to the limit, keeping what a build uses; dead leftovers go', async () => {
  await cache.store(tree('t3', 'three\n'.repeat(1000)), meta(key('c')));
  const old = new Date(Date.now() - 3_600_000);
  fs.utimesSync(path.join(cache.dir, `${key('a')}.json`), old, old);
  fs.writeFileSync(path.join(cache.dir, `${key('d')}.tar.zst.kiln-part-999999-1`), 'half');
  fs.writeFileSync(path.join(cache.dir, `${key('c')}.tar.zst.pin-999999-1`), 'pin');
  const all = cache.list();
  expect(all.map((e) => e.key)).toHaveLength(3);
  expect(all[all.length - 1]?.key).toBe(key('a'));
  const total = all.reduce((n, e) => n + e.bytes, 0);
  const removed = cache.prune({ maxBytes: total - 1, keep: [] });
  expect(removed.map((e) => e.key)).toEqual([key('a')]);
  expect(fs.readdirSync(cache.dir).filter((n) => n.includes('999999'))).toEqual([]);
  expect(cache.prune({ maxBytes: 0, keep: [key('c')] }).map((e) => e.key)).toEqual([key('b')]);
  expect(cache.list().map((e) => e.key)).toEqual([key('c')]);
  expect(cache.prune({ olderThanMs: 0 }).map((e) => e.key)).toEqual([key('c')]);
  expect(cache.totalBytes()).toBe(0);
});
