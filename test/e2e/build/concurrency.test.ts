/**
 * Builds side by side and builds that run out of space, on the busybox tree: two builds to different
 * outputs both succeed while a third to a busy output is refused (exit 2) without touching it; a lock left
 * by a killed build is taken over; an output or work directory that fills up fails clearly and leaves nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { expectNoLeaks, hostState, kiln, type Run } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-conc');
const F = path.join(work, 'flavours');
const out = path.join(work, 'out');
const full = path.join(work, 'full');
const smallTmp = path.join(work, 'small-tmp');
fs.mkdirSync(out);
fs.mkdirSync(full);
fs.mkdirSync(smallTmp);
writeFlavour(path.join(F, 'slow'), { hooks: { 'install.d': { '50-slow': '#!/bin/sh\necho KILN-SLOW-STARTED\nsleep "${KILN_SLOW_SECONDS:-4}"\n' } } });
const env = { ELEMENTS_PATH: F };
const build = (name: string, ...flavours: string[]) => ['build', '-t', 'tar', '-o', path.join(out, name), 'busybox', ...flavours];

function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

afterAll(() => {
  spawnSync('umount', [full]);
  fs.rmSync(work, { recursive: true, force: true });
});

test('two builds to different outputs both succeed; one to a busy output is refused and changes nothing', async () => {
  fs.writeFileSync(path.join(out, 'a.tar'), 'previous a\n');
  const before = hostState();
  let others: Promise<[Run, Run]> | undefined;
  const a = await kiln(build('a', 'slow'), {
    env,
    onStdout: (text) => {
      if (!others && text.includes('KILN-SLOW-STARTED')) others = Promise.all([kiln(build('a'), { env }), kiln(build('c', 'slow'), { env: { ...env, KILN_SLOW_SECONDS: '1' } })]);
    },
  });
  expect(others).toBeDefined();
  const [busy, c] = await (others as Promise<[Run, Run]>);
  expect(busy.code).toBe(2);
  expect(busy.stderr.trim()).toMatch(/^kiln: error: -o .*\/a: another kiln build \(pid \d+\) is writing this output now/);
  expect(c.code).toBe(0);
  expect(a.code).toBe(0);
  expect(fs.statSync(path.join(out, 'a.tar')).size).toBeGreaterThan(1_000_000);
  expect(fs.statSync(path.join(out, 'c.tar')).size).toBeGreaterThan(1_000_000);
  expect(fs.readdirSync(out).filter((n) => n.endsWith('.kiln-lock'))).toEqual([]);
  expectNoLeaks(before, out);
});

test('a lock left by a build killed outright (SIGKILL to every kiln process at once) is taken over by the next build', async () => {
  const lock = path.join(out, '.k.kiln-lock');
  let owner: number | undefined;
  const k = await kiln(build('k', 'slow'), {
    env: { ...env, KILN_SLOW_SECONDS: '60' },
    onStdout: (text) => {
      if (owner === undefined && text.includes('KILN-SLOW-STARTED')) {
        // The lock names the outer kiln; kill it and everything below it at once (as the OOM killer or a
        // power cut would), so that nothing gets a chance to clean up.
        owner = (JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number }).pid;
        for (const pid of [owner, ...descendants(owner)]) process.kill(pid, 'SIGKILL');
      }
    },
  });
  expect(owner).toBeDefined();
  expect(k.code).not.toBe(0);
  expect(fs.existsSync(lock)).toBe(true);
  const again = await kiln(build('k'), { env });
  expect(again.code).toBe(0);
  expect(fs.existsSync(lock)).toBe(false);
  expect(fs.statSync(path.join(out, 'k.tar')).size).toBeGreaterThan(1_000_000);
});

test('an output directory that fills up: exit 1, one clear line (where, how much), no partial output, nothing leaked', async () => {
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'kiln-e2e-full', full]).status).toBe(0);
  const before = hostState();
  const r = await kiln(['build', '-t', 'tar', '-o', path.join(full, 'img'), 'busybox'], { env });
  expect(r.code).toBe(1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('kiln: error:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(new RegExp(`no space left in ${full} writing img\\.tar: 1\\.0 MiB was free`));
  expect(fs.readdirSync(full)).toEqual([]);
  expectNoLeaks(before, full);
});

test('a work directory that fills up (TMPDIR on a 512 KiB filesystem): exit 1, one clear line (where, how big, how far), nothing leaked', async () => {
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'kiln-e2e-small-tmp', smallTmp]).status).toBe(0);
  try {
    fs.writeFileSync(path.join(out, 'img.tar'), 'the previous image\n');
    const before = hostState();
    const r = await kiln(['build', '--no-tmpfs', '-t', 'tar', '-o', path.join(out, 'img'), 'busybox'], { env: { ...env, TMPDIR: smallTmp } });
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('kiln: error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`no space left in the work directory ${smallTmp}/kiln-build-\\w+ \\(0\\.5 MiB filesystem, 0\\.\\d MiB free\\): \\[busybox\\] root\\.d/10-busybox-tree exited 1; the build had written \\d+\\.\\d MiB there and needed more`));
    expect(r.stderr).toContain('point TMPDIR at a larger filesystem');
    expect(fs.readdirSync(smallTmp)).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'img.tar'), 'utf8')).toBe('the previous image\n');
    expectNoLeaks(before, out);
  } finally {
    spawnSync('umount', [smallTmp]);
  }
});
