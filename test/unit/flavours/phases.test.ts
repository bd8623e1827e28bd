import { spawnSync } from 'node:child_process';
import { compareHookNames, PHASE_NAMES, SHELL_HOOK_ORDER } from '../../../lib/flavours/phases.js';

describe('compareHookNames (run-parts order)', () => {
  test.each([
    [['10-a', '9-b', 'a-x', '10-A', '02-c'], ['a-x', '02-c', '9-b', '10-A', '10-a']],
    [['20-b', '20-a', '100-z', '3'], ['3', '20-a', '20-b', '100-z']],
    [['b', 'a', '0-z'], ['0-z', 'a', 'b']],
    [['01-x', '1-x', '001-y'], ['001-y', '01-x', '1-x']],
    [['99999999999999999999-big', '5-small'], ['5-small', '99999999999999999999-big']],
    [['10_a', '10-a', '10a'], ['10-a', '10_a', '10a']],
  ])('%j sorts to %j', (input, expected) => {
    expect([...input].sort(compareHookNames)).toEqual(expected);
  });

  test('the phases run in diskimage-builder order', () => {
    expect(PHASE_NAMES).toEqual([
      'root.d', 'extra-data.d', 'pre-install.d', 'install.d', 'post-install.d', 'post-root.d',
      'block-device-size.d', 'block-device.d', 'pre-finalise.d', 'finalise.d', 'cleanup.d', 'first-boot.d',
    ]);
  });
});

test("one hook order everywhere: the shell's (dib-run-parts, first-boot) sorts names as compareHookNames does", () => {
  const names = ['10-a', 'a-x', '9-b', '10-A', '02-c', '100-z', '050-mid', 'zz', '1_x', '10-a_b', 'B', '0-first'];
  const shell = spawnSync('sh', ['-c', SHELL_HOOK_ORDER], { input: `${names.join('\n')}\n`, encoding: 'utf8' }).stdout.trim().split('\n');
  expect(shell).toEqual([...names].sort(compareHookNames));
});
