import { startProcess, wrapDieWithParent } from '../../../lib/exec/spawn.js';
import { cancel, resetCancellation } from '../../../lib/exec/cancel.js';

afterEach(() => resetCancellation());

test('wrapDieWithParent', () => {
  expect(wrapDieWithParent('qemu', ['-a'], '/usr/bin/setpriv')).toEqual(['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', 'qemu', '-a']]);
  expect(wrapDieWithParent('qemu', ['-a'], null)).toEqual(['qemu', ['-a']]);
});

test('lines stream as they come; an unterminated prompt is emitted after a pause', async () => {
  const lines: string[] = [];
  const p = startProcess('sh', ['-c', 'printf "one\\r\\ntwo\\n"; printf "debian login: "; exec sleep 30'], {
    partialLineMs: 100,
    onLine: (l, s) => s === 'stdout' && lines.push(l),
  });
  const t0 = Date.now();
  while (lines.length < 3 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  expect(lines).toEqual(['one', 'two', 'debian login: ']);
  expect(p.isRunning()).toBe(true);
  const exit = await p.stop(2000);
  expect(exit.signal).toBe('SIGTERM');
  expect(p.isRunning()).toBe(false);
});

test('stop escalates to SIGKILL when SIGTERM is ignored', async () => {
  const p = startProcess('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'], { onLine: () => {} });
  await new Promise((r) => setTimeout(r, 200));
  const exit = await p.stop(300);
  expect(exit.signal).toBe('SIGKILL');
});

test('the cancel signal kills the process', async () => {
  const p = startProcess('sleep', ['30']);
  cancel('SIGTERM');
  const exit = await p.exited;
  expect(exit.signal).toBe('SIGTERM');
  expect(() => startProcess('sleep', ['1'])).toThrow(/interrupted/);
});

test('a missing command reports itself, without throwing', async () => {
  const p = startProcess('kiln-no-such-command', []);
  const exit = await p.exited;
  expect(exit.error).toMatch(/command not found: kiln-no-such-command|ENOENT/);
});

test('stderr tail is kept', async () => {
  const p = startProcess('sh', ['-c', 'echo bad >&2; exit 3']);
  const exit = await p.exited;
  expect(exit.exitCode).toBe(3);
  expect(p.stderrTail()).toEqual(['bad']);
});
