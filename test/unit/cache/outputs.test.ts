/**
 * The output cache: entries stored by hard links with their digests, served only while every file still has
 * its digest (a file changed through its other link drops the entry), whole or absent, the newest kept.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutputCache, outputKey } from '../../../lib/cache/outputs.js';
import { currentOwner } from '../../../lib/namespace/owner.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-output-cache');
const sha = (p: string) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

function output(name: string, text: string): string {
  const p = path.join(work, name);
  fs.rmSync(p, { force: true });
  fs.writeFileSync(p, text);
  return p;
}

test('the key is the inputs in any order', () => {
  expect(outputKey({ a: '1', b: '2' })).toBe(outputKey({ b: '2', a: '1' }));
  expect(outputKey({ a: '1', b: '2' })).not.toBe(outputKey({ a: '1', b: '3' }));
});

test('stored by hard links with digests; verified before use; a file changed in place drops the entry', async () => {
  const cache = new OutputCache(path.join(work, 'c1'));
  const qcow2 = output('img.qcow2', 'disk bytes');
  const manifest = output('img.manifest.json', '{}\n');
  expect(await cache.store('k1', [{ name: 'qcow2', path: qcow2 }, { name: 'manifest', path: manifest }])).toBe(true);
  expect(fs.statSync(cache.file('k1', 'qcow2')).ino).toBe(fs.statSync(qcow2).ino);
  const entry = await cache.verified('k1');
  expect(entry?.files.map((f) => [f.name, f.sha256, f.bytes])).toEqual([
    ['qcow2', sha(qcow2), 10],
    ['manifest', sha(manifest), 3],
  ]);
  expect(await cache.verified('nope')).toBeUndefined();
  fs.appendFileSync(qcow2, 'changed'); // through the output: the entry's file is the same inode
  expect(await cache.verified('k1')).toBeUndefined();
  expect(fs.existsSync(path.join(work, 'c1', 'k1'))).toBe(false);
  expect(fs.readdirSync(path.join(work, 'c1'))).toEqual([]);
});

test('a replaced output (a new file renamed onto it, as kiln writes outputs) leaves the entry intact', async () => {
  const cache = new OutputCache(path.join(work, 'c2'));
  const tar = output('img.tar', 'tree v1');
  await cache.store('k', [{ name: 'tar', path: tar }]);
  const next = output('img.tar.new', 'tree v2');
  fs.renameSync(next, tar);
  expect((await cache.verified('k'))?.files[0]?.bytes).toBe(7);
  expect(fs.readFileSync(cache.file('k', 'tar'), 'utf8')).toBe('tree v1');
});

test('the newest entries are kept, the oldest pruned; clear removes all', async () => {
  const cache = new OutputCache(path.join(work, 'c3'));
  for (let i = 0; i < 10; i++) {
    await cache.store(`k${i}`, [{ name: 'tar', path: output(`t${i}.tar`, `v${i}`) }]);
    const t = new Date(Date.now() - (10 - i) * 60_000);
    fs.utimesSync(path.join(work, 'c3', `k${i}`, 'entry.json'), t, t);
  }
  await cache.store('k10', [{ name: 'tar', path: output('t10.tar', 'v10') }]);
  const left = fs.readdirSync(path.join(work, 'c3')).sort();
  expect(left).toHaveLength(8);
  expect(left).not.toContain('k0');
  expect(left).toContain('k10');
  expect(cache.clear()).toBe(8);
  expect(fs.existsSync(path.join(work, 'c3'))).toBe(false);
});

test("a dead build's scratch directories are swept at the next store; a live build's are left alone", async () => {
  const dir = path.join(work, 'c4');
  const cache = new OutputCache(dir);
  const dead = path.join(dir, '.k0.kiln-part-999999999-1');
  const pull = path.join(dir, '.pull-k9.kiln-part-999999999-1');
  const me = currentOwner();
  const live = path.join(dir, `.k1.kiln-part-${me.pid}-${me.start}`);
  for (const d of [dead, pull, live]) fs.mkdirSync(path.join(d, 'inner'), { recursive: true });
  await cache.store('k2', [{ name: 'tar', path: output('t.tar', 'v') }]);
  expect(fs.readdirSync(dir).sort()).toEqual([path.basename(live), 'k2']);
});

