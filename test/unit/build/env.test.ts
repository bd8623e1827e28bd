import { CALLER_ONLY, callerEnv } from '../../../lib/build/env.js';

test.each([
  ['Python told not to write bytecode', { PYTHONDONTWRITEBYTECODE: '1', DIB_X: 'a' }, { DIB_X: 'a' }],
  ['Python told to write bytecode elsewhere', { PYTHONPYCACHEPREFIX: '/tmp/pyc', FOO: 'b' }, { FOO: 'b' }],
  ['nothing to drop', { DIB_RELEASE: 'trixie', PYTHONUNBUFFERED: '1' }, { DIB_RELEASE: 'trixie', PYTHONUNBUFFERED: '1' }],
])('hooks and package scripts do not get the caller\'s %s', (_name, env, want) => {
  const before = { ...env };
  expect(callerEnv(env)).toEqual(want);
  expect(env).toEqual(before);
});

test('the dropped variables are the ones that change where Python writes bytecode', () => {
  expect([...CALLER_ONLY].sort()).toEqual(['PYTHONDONTWRITEBYTECODE', 'PYTHONPYCACHEPREFIX']);
});
