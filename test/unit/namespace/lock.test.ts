/**
 * Locks that cannot be taken twice: processes started together on a dead owner's lock, round after round;
 * exactly one takes it each time.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearStaleLock, isLockLeftover, removeLockLeftover, tryLock } from '../../../lib/namespace/lock.js';
import { currentOwner } from '../../../lib/namespace/owner.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('lock');
const LOCK_MODULE = fileURLToPath(new URL('../../../lib/namespace/lock.js', import.meta.url));
const DEAD = JSON.stringify({ pid: 999_999, start: '1' });

/** A process that waits for `go` on stdin, tries the lock, prints got/held, and holds it until stdin closes. */
function contender(file: string): { ready: Promise<void>; result: Promise<string>; go: () => void; finish: () => void } {
  const script = `import { tryLock } from ${JSON.stringify(LOCK_MODULE)};
process.stdout.write('ready\\n');
process.stdin.once('data', () => { const r = tryLock(${JSON.stringify(file)}); process.stdout.write(('release' in r ? 'got' : 'held') + '\\n'); process.stdin.resume(); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => (onReady = res));
  const result = new Promise<string>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) onReady();
      const m = /(got|held)\n/.exec(out);
      if (m) resolve(m[1] as string);
    });
  });
  return { ready, result, go: () => child.stdin.write('go\n'), finish: () => child.stdin.end() };
}

test('eight processes on a dead owner\'s lock, ten rounds: exactly one takes it each round, and no marker is left', async () => {
  for (let round = 0; round < 10; round++) {
    const file = path.join(dir, `round-${round}.lock`);
    fs.writeFileSync(file, DEAD);
    const cs = Array.from({ length: 8 }, () => contender(file));
    await Promise.all(cs.map((c) => c.ready));
    for (const c of cs) c.go();
    const results = await Promise.all(cs.map((c) => c.result));
    expect([round, results.filter((r) => r === 'got').length]).toEqual([round, 1]);
    for (const c of cs) c.finish();
  }
  expect(fs.readdirSync(dir).filter(isLockLeftover)).toEqual([]);
}, 60_000);

test('a live owner keeps its lock; the release removes only our own lock; a stale one is cleared, a live one never', () => {
  const file = path.join(dir, 'live.lock');
  const first = tryLock(file);
  expect('release' in first).toBe(true);
  expect(tryLock(file)).toEqual({ holder: currentOwner() });
  clearStaleLock(file);
  expect(fs.existsSync(file)).toBe(true);
  if ('release' in first) first.release();
  expect(fs.existsSync(file)).toBe(false);
  fs.writeFileSync(file, DEAD);
  clearStaleLock(file);
  expect(fs.existsSync(file)).toBe(false);
});

test("a marker whose taker died is skipped for the next one, and swept once the lock has changed hands", () => {
  const file = path.join(dir, 'marker.lock');
  fs.writeFileSync(file, DEAD);
  const marker = `${file}.takeover-999999-1-0`;
  fs.writeFileSync(marker, JSON.stringify({ pid: 999_998, start: '1' }));
  removeLockLeftover(dir, path.basename(marker)); // the lock still names the dead owner: kept
  expect(fs.existsSync(marker)).toBe(true);
  const got = tryLock(file);
  expect('release' in got).toBe(true);
  expect(fs.existsSync(`${file}.takeover-999999-1-1`)).toBe(false);
  removeLockLeftover(dir, path.basename(marker));
  expect(fs.existsSync(marker)).toBe(false);
  if ('release' in got) got.release();
});

test('a lock file that names no owner: while young (being written?) it is not taken, an error naming it; once old, taken over', () => {
  const file = path.join(dir, 'junk.lock');
  fs.writeFileSync(file, 'not kiln');
  expect(() => tryLock(file)).toThrow(`${file} exists but does not name a live owner`);
  const old = new Date(Date.now() - 3_600_000);
  fs.utimesSync(file, old, old);
  const got = tryLock(file);
  expect('release' in got).toBe(true);
  if ('release' in got) got.release();
  expect(fs.existsSync(file)).toBe(false);
});
