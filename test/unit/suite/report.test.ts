import { budgetProblems, countResults, formatTable, mergeResults, newProcesses, newTempEntries, sourceName, timingRows, type Budget, type JestResults } from '../../report.js';
import { orderPaths, seedFromEnv } from '../../sequencer.js';

const file = (name: string, seconds: number) => ({ name: `/repo/dist/test/e2e/${name}.js`, startTime: 1000, endTime: 1000 + seconds * 1000, status: 'passed' });
const results = (files: ReturnType<typeof file>[], over: Partial<JestResults> = {}): JestResults => ({
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  numRuntimeErrorTestSuites: 0,
  testResults: files,
  ...over,
});
const budget: Budget = { totalSeconds: 2100, files: { 'image/vm.test.ts': 200, 'build/cache.test.ts': 60 }, fixtures: { seed: 180 } };

test('the closing counts: failed includes files that could not run, skipped includes todo', () => {
  const c = countResults([
    results([], { numPassedTests: 5, numFailedTests: 1, numPendingTests: 2 }),
    results([], { numPassedTests: 3, numRuntimeErrorTestSuites: 1, numTodoTests: 1 }),
  ]);
  expect(c).toEqual({ passed: 8, failed: 2, skipped: 3 });
});

test('the lanes merge into one result: counts added, files side by side', () => {
  const m = mergeResults([results([file('a.test', 1)], { numPassedTests: 2, numFailedTests: 1 }), results([file('b.test', 2)], { numPassedTests: 3, numPendingTests: 1 })]);
  expect(countResults([m])).toEqual({ passed: 5, failed: 1, skipped: 1 });
  expect(m.testResults.map((f) => sourceName(f.name))).toEqual(['a.test.ts', 'b.test.ts']);
});

test('compiled paths map back to the sources', () => {
  expect(sourceName('/x/dist/test/e2e/build/cache.test.js')).toBe('build/cache.test.ts');
  expect(sourceName('elsewhere.js')).toBe('elsewhere.js');
});

test('a fixture build is taken off the file that built it; rows slowest first', () => {
  const fixtures = [{ name: 'seed', seconds: 150, testPath: '/repo/dist/test/e2e/image/vm.test.js' }];
  const rows = timingRows(results([file('build/cache.test', 40), file('image/vm.test', 300)]), fixtures, budget);
  expect(rows.map((r) => [r.file, r.seconds, r.fixtureSeconds])).toEqual([
    ['image/vm.test.ts', 150, 150],
    ['build/cache.test.ts', 40, 0],
  ]);
  expect(budgetProblems(rows, fixtures, budget, 1800)).toEqual([]);
});

test.each([
  ['a file over its allowance', [file('build/cache.test', 61)], [], 100, /build\/cache\.test\.ts took 61 s, over its allowance of 60 s/],
  ['a file without an allowance', [file('new/thing.test', 1)], [], 100, /new\/thing\.test\.ts has no allowance/],
  ['a fixture over its allowance', [], [{ name: 'seed', seconds: 200, testPath: 'x' }], 100, /fixture seed took 200 s to build, over its allowance of 180 s/],
  ['a fixture without one', [], [{ name: 'other', seconds: 1, testPath: 'x' }], 100, /fixture other has no allowance/],
  ['the whole run over the total', [], [], 2101, /the whole run took 35 min 01 s, over its budget of 35 min 00 s/],
])('budget: %s is a problem', (_what, files, fixtures, total, problem) => {
  const rows = timingRows(results(files), fixtures, budget);
  expect(budgetProblems(rows, fixtures, budget, total)).toEqual([expect.stringMatching(problem)]);
});

test('a partial run checks no total; a shuffled run checks no file allowance', () => {
  expect(budgetProblems([], [], budget, undefined)).toEqual([]);
  const rows = timingRows(results([file('build/cache.test', 61), file('new/thing.test', 1)]), [], budget);
  expect(budgetProblems(rows, [], budget, 2101, true)).toEqual([expect.stringMatching(/whole run/)]);
});

test('processes the run started and left running are found; older ones and the reporter are not', () => {
  const before = ['  10 /sbin/init', ' 200 qemu-system-x86_64 -m 512 (the user\'s own)'];
  const after = [...before, ' 300 qemu-system-x86_64 -machine q35', ' 301 node /repo/bin/kiln build', ' 302 sleep 5', ' 400 node dist/test/report.js'];
  expect(newProcesses(before, after, [400])).toEqual(['300 qemu-system-x86_64 -machine q35', '301 node /repo/bin/kiln build']);
});

test('the table marks what went over', () => {
  const rows = timingRows(results([file('build/cache.test', 61), file('image/vm.test', 10)]), [], budget);
  const table = formatTable(rows, [], budget);
  expect(table.split('\n')[2]).toMatch(/^\s+61\s+60\s+build\/cache\.test\.ts  << over$/);
  expect(table.split('\n')[3]).toMatch(/^\s+10\s+200\s+image\/vm\.test\.ts$/);
});

test("only kiln's new entries in TMPDIR are leftovers", () => {
  expect(newTempEntries(['kiln-old', 'systemd-x'], ['kiln-old', 'kiln-test-a-1', 'jest_0', 'systemd-x', 'kiln-build-2'])).toEqual(['kiln-build-2', 'kiln-test-a-1']);
});

test('file order: bytewise by default, a reproducible shuffle for a seed', () => {
  const paths = ['b/x', 'a/y', 'a/x', 'c', 'B'];
  expect(orderPaths(paths)).toEqual(['B', 'a/x', 'a/y', 'b/x', 'c']);
  const one = orderPaths(paths, 7);
  expect(one).toEqual(orderPaths(paths, 7));
  expect([...one].sort()).toEqual([...paths].sort());
  expect(new Set([1, 2, 3, 4, 5, 6].map((s) => orderPaths(paths, s).join())).size).toBeGreaterThan(1);
  expect(seedFromEnv({})).toBeUndefined();
  expect(seedFromEnv({ KILN_TEST_SEED: '42' })).toBe(42);
  expect(() => seedFromEnv({ KILN_TEST_SEED: 'x' })).toThrow(/KILN_TEST_SEED=x/);
});
