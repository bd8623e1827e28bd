/**
 * Rootless builds' checks, as tables: a user's subordinate range (by name or uid, as newuidmap reads the
 * files), where a new range could start, what each missing piece says, the kernel's switches, KILN_ROOTLESS.
 */
import { freeSubidStart, subidProblem, subidRange, usernsProblem } from '../../../lib/namespace/rootless.js';
import { rootlessMode } from '../../../lib/privilege/index.js';

const SUBUID = '# comment\nalice:100000:65536\n1002:165536:65536\nbad line\nsmall:231072:1000\n';

test.each([
  ['alice', 1001, { start: 100000, count: 65536 }],
  ['bob', 1002, { start: 165536, count: 65536 }],
  [undefined, 1002, { start: 165536, count: 65536 }],
  ['carol', 1003, undefined],
  ['small', 1004, { start: 231072, count: 1000 }],
] as const)('subidRange(%s, uid %s)', (name, id, want) => {
  expect(subidRange(SUBUID, name, id)).toEqual(want);
});

test.each([
  [[], 100000],
  [[''], 100000],
  [[SUBUID], 232072],
  [['a:100000:65536\n', 'a:300000:10\n'], 300010],
  [[undefined, 'x:50:10\n'], 100000],
] as const)('freeSubidStart(%j) = %s', (texts, want) => {
  expect(freeSubidStart(...texts)).toBe(want);
});

test.each([
  ['alice', 1001, undefined],
  ['carol', 1003, /^carol has no subordinate uid range in \/etc\/subuid/],
  ['small', 1004, /^small's subordinate uid range in \/etc\/subuid has 1000 ids; a rootless build needs 65536/],
] as const)('subidProblem for %s', (name, id, want) => {
  const p = subidProblem('/etc/subuid', SUBUID, name, id, 232072);
  if (want === undefined) expect(p).toBeUndefined();
  else {
    expect(p?.message).toMatch(want);
    expect(p?.hint).toBe(`as root: usermod --add-subuids 232072-297607 --add-subgids 232072-297607 ${name}`);
  }
});

test('no /etc/subgid at all: the gid range is missing', () => {
  expect(subidProblem('/etc/subgid', undefined, 'alice', 1001, 100000)?.message).toBe("alice has no subordinate gid range in /etc/subgid (the image's owners are mapped to one)");
});

test.each([
  [{}, undefined],
  [{ unprivilegedClone: '1\n', maxUserNamespaces: '96362\n', apparmorRestrict: '0\n' }, undefined],
  [{ unprivilegedClone: '0\n' }, 'sysctl -w kernel.unprivileged_userns_clone=1'],
  [{ maxUserNamespaces: '0\n' }, 'sysctl -w user.max_user_namespaces=15000'],
  [{ apparmorRestrict: '1\n' }, 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'],
] as const)('usernsProblem(%j) names %s', (s, hint) => {
  const p = usernsProblem({ unprivilegedClone: undefined, maxUserNamespaces: undefined, apparmorRestrict: undefined, ...s });
  if (hint === undefined) expect(p).toBeUndefined();
  else expect(p?.hint).toContain(hint);
});

test.each([
  [undefined, 'auto'],
  ['', 'auto'],
  ['auto', 'auto'],
  ['1', 'always'],
  ['yes', 'always'],
  ['0', 'never'],
  ['false', 'never'],
] as const)('KILN_ROOTLESS=%s → %s', (raw, want) => {
  expect(rootlessMode(raw)).toBe(want);
});

test('KILN_ROOTLESS=maybe is bad input (exit 2)', () => {
  expect(() => rootlessMode('maybe')).toThrow(expect.objectContaining({ kind: 'invalid', message: expect.stringContaining('KILN_ROOTLESS=maybe') }));
});
