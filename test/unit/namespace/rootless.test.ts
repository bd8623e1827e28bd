/**
 * Rootless builds' checks, as tables: a user's subordinate range (by name or uid, as newuidmap reads the
 * files), where a new range could start, what each missing piece says, the kernel's switches, KILN_ROOTLESS.
 */
import { freeSubidStart, presentIds, rootlessIdMap, subidMap, subidRange, subidRanges, unshareMapArgs, usernsProblem } from '../../../lib/namespace/rootless.js';
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

const HOST = presentIds(undefined);
const problemOf = (r: ReturnType<typeof subidMap>) => ('problem' in r ? r.problem : undefined);

test.each([
  ['alice', 1001, undefined],
  ['carol', 1003, /^carol has no subordinate uid range in \/etc\/subuid/],
  ['small', 1004, /^small's subordinate uid range in \/etc\/subuid has 1000 ids; a rootless build needs 65534 \(the image's owners 1…65534\)$/],
] as const)('subidMap: the problem for %s', (name, id, want) => {
  const p = problemOf(subidMap('/etc/subuid', SUBUID, { name, uid: id, self: id }, HOST, 232072));
  if (want === undefined) expect(p).toBeUndefined();
  else {
    expect(p?.message).toMatch(want);
    expect(p?.hint).toBe(`as root: usermod --add-subuids 232072-297607 --add-subgids 232072-297607 ${name}`);
  }
});

test('no /etc/subgid at all: the gid range is missing', () => {
  expect(problemOf(subidMap('/etc/subgid', undefined, { name: 'alice', uid: 1001, self: 1001 }, HOST, 100000))?.message).toBe("alice has no subordinate gid range in /etc/subgid (the image's owners are mapped to one)");
});

test('a host user with one range of 65536: the map --map-auto makes (1…65535 inside)', () => {
  const r = subidMap('/etc/subuid', SUBUID, { name: 'alice', uid: 1001, self: 1001 }, HOST, 232072, 'auto');
  expect(r).toEqual({ map: [{ inner: 0, outer: 1001, count: 1 }, { inner: 1, outer: 100000, count: 65535 }] });
  expect(unshareMapArgs([], [], 'auto')).toEqual(['--user', '--map-auto', '--map-root-user']);
});

test('--map-auto maps one id fewer than the range: a range of 65534 leaves nogroup (65534) out', () => {
  const r = subidMap('/etc/subuid', 'dave:100000:65534\n', { name: 'dave', uid: 1005, self: 1005 }, HOST, 200000, 'auto');
  expect(problemOf(r)?.message).toBe("dave's subordinate uid range in /etc/subuid has 65534 ids (unshare --map-auto maps 65533 of them); a rootless build needs 65534 (the image's owners 1…65534)");
  expect(subidMap('/etc/subuid', 'dave:100000:65534\n', { name: 'dave', uid: 1005, self: 1005 }, HOST, 200000, 'ranges')).toEqual({
    map: [{ inner: 0, outer: 1005, count: 1 }, { inner: 1, outer: 100000, count: 65534 }],
  });
});

test('subidRanges: every line of the user, in order', () => {
  expect(subidRanges('kiln:1:999\nother:5:5\nkiln:1001:64536\n1000:70000:3\n', 'kiln', 1000)).toEqual([
    { start: 1, count: 999 },
    { start: 1001, count: 64536 },
    { start: 70000, count: 3 },
  ]);
});

test('presentIds: the inner ranges of a uid_map', () => {
  expect(presentIds('         0       1001          1\n         1     100000      65536\n')).toEqual([{ start: 0, count: 1 }, { start: 1, count: 65536 }]);
  expect(presentIds('0 0 4294967295\n')).toEqual([{ start: 0, count: 4294967295 }]);
});

// kiln's container image: user kiln (1000) with 1…999 and 1001…65536, in a rootless podman's container (0…65536,
// its user's 65536 subordinate ids) and in a Kubernetes pod with a user namespace of its own (0…65535).
test.each([
  ['rootless podman', '0 1001 1\n1 100000 65536\n', 64536],
  ['Kubernetes hostUsers: false', '0 3473408 65536\n', 64535],
] as const)('the container user kiln in %s: ranges around its own id, cut to the namespace', (_, uidMap, last) => {
  const r = subidMap('/etc/subuid', 'kiln:1:999\nkiln:1001:64536\n', { name: 'kiln', uid: 1000, self: 1000 }, presentIds(uidMap), 100000, 'ranges');
  expect(r).toEqual({ map: [{ inner: 0, outer: 1000, count: 1 }, { inner: 1, outer: 1, count: 999 }, { inner: 1000, outer: 1001, count: last }] });
  expect(unshareMapArgs([{ inner: 0, outer: 1000, count: 1 }, { inner: 1, outer: 1, count: 999 }], [{ inner: 0, outer: 1000, count: 1 }], 'ranges')).toEqual([
    '--user', '--map-users', '0:1000:1', '--map-users', '1:1:999', '--map-groups', '0:1000:1', '--setuid', '0', '--setgid', '0',
  ]);
});

test('a range holding the user\'s own id is split around it; never more than 65535 ids', () => {
  expect(rootlessIdMap([{ start: 0, count: 200000 }], presentIds(undefined), 1000)).toEqual([
    { inner: 0, outer: 1000, count: 1 },
    { inner: 1, outer: 0, count: 1000 },
    { inner: 1001, outer: 1001, count: 64535 },
  ]);
});

test.each([
  ['too few in this namespace', 'kiln:1:999\nkiln:1001:64536\n', '0 0 30000\n', 'ranges', /have 65535 ids \(29998 usable: the others are their own id or do not exist in this user namespace\); a rootless build needs 65534/],
  ['--map-auto cannot split', 'kiln:0:70000\n', undefined, 'auto', /is split .*--map-auto/],
] as const)('subidMap: %s', (_, text, uidMap, maps, want) => {
  const p = problemOf(subidMap('/etc/subuid', text, { name: 'kiln', uid: 1000, self: 1000 }, presentIds(uidMap), 100000, maps));
  expect(p?.message).toMatch(want);
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
