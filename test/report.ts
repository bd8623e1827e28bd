/**
 * The end of scripts/test: reads jest's --json results (unit.json, e2e-LANE.json), prints the timing table of the end-to-end files
 * (slowest first) against their allowances in test/e2e/budget.json, checks that the run left nothing of
 * kiln's in TMPDIR, and prints the closing line `N passed, N failed, N skipped`. A file over its allowance,
 * a fixture over its own, a whole run over the total, or a leftover in TMPDIR each count as one failure.
 *
 * A test process still running at the end (QEMU, kiln, a test server) counts as one failure too.
 *
 *   node dist/test/report.js RESULTS_DIR --started EPOCH_S [--partial] [--shuffled] [--tmp-before FILE] [--ps-before FILE]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface JestFile {
  name: string;
  startTime: number;
  endTime: number;
  status: string;
  message?: string;
}
export interface JestResults {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: JestFile[];
}
export interface Budget {
  /** The whole scripts/test, set-up and unit tests included. */
  totalSeconds: number;
  /** Each end-to-end file's own time (fixtures it happened to build are not counted against it). */
  files: Record<string, number>;
  /** Each shared fixture's build, whichever file asked for it first. */
  fixtures: Record<string, number>;
}
/** A shared fixture built during the run (written by test/e2e/helpers/images.ts). */
export interface FixtureBuild {
  name: string;
  seconds: number;
  testPath: string;
}
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
export interface Row {
  file: string;
  seconds: number;
  fixtureSeconds: number;
  allowance: number | undefined;
}

export function countResults(results: readonly JestResults[]): Counts {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    c.passed += r.numPassedTests;
    c.failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    c.skipped += r.numPendingTests + r.numTodoTests;
  }
  return c;
}

/** The lanes' results as one (their files side by side). */
export function mergeResults(lanes: readonly JestResults[]): JestResults {
  const sum = (k: 'numPassedTests' | 'numFailedTests' | 'numPendingTests' | 'numTodoTests' | 'numRuntimeErrorTestSuites') => lanes.reduce((s, r) => s + r[k], 0);
  return {
    numPassedTests: sum('numPassedTests'),
    numFailedTests: sum('numFailedTests'),
    numPendingTests: sum('numPendingTests'),
    numTodoTests: sum('numTodoTests'),
    numRuntimeErrorTestSuites: sum('numRuntimeErrorTestSuites'),
    testResults: lanes.flatMap((r) => r.testResults),
  };
}

/** `…/dist/test/e2e/build/cache.test.js` → `build/cache.test.ts` (relative to test/e2e). */
export function sourceName(compiled: string): string {
  const m = /(?:^|\/)dist\/test\/e2e\/(.+)\.js$/.exec(compiled);
  return m ? `${m[1]}.ts` : compiled;
}

/** One row per end-to-end file, slowest own time first; a fixture's build is taken off its builder's time. */
export function timingRows(e2e: JestResults, fixtures: readonly FixtureBuild[], budget: Budget): Row[] {
  const rows = e2e.testResults.map((f) => {
    const file = sourceName(f.name);
    const fixtureSeconds = fixtures.filter((x) => sourceName(x.testPath) === file).reduce((s, x) => s + x.seconds, 0);
    const seconds = Math.max(0, (f.endTime - f.startTime) / 1000 - fixtureSeconds);
    return { file, seconds, fixtureSeconds, allowance: budget.files[file] };
  });
  return rows.sort((a, b) => b.seconds - a.seconds);
}

/**
 * What went over: files and fixtures over their allowance or without one, the run over the total. In a
 * shuffled run the files' own allowances are not checked (which file pays for the run's first Debian base
 * tree depends on the order); the fixtures' and the total are.
 */
export function budgetProblems(rows: readonly Row[], fixtures: readonly FixtureBuild[], budget: Budget, totalSeconds: number | undefined, shuffled = false): string[] {
  const problems: string[] = [];
  for (const r of shuffled ? [] : rows) {
    if (r.allowance === undefined) problems.push(`${r.file} has no allowance in test/e2e/budget.json`);
    else if (r.seconds > r.allowance) problems.push(`${r.file} took ${r.seconds.toFixed(0)} s, over its allowance of ${r.allowance} s`);
  }
  for (const f of fixtures) {
    const allowance = budget.fixtures[f.name];
    if (allowance === undefined) problems.push(`fixture ${f.name} has no allowance in test/e2e/budget.json`);
    else if (f.seconds > allowance) problems.push(`fixture ${f.name} took ${f.seconds.toFixed(0)} s to build, over its allowance of ${allowance} s`);
  }
  if (totalSeconds !== undefined && totalSeconds > budget.totalSeconds) {
    problems.push(`the whole run took ${formatDuration(totalSeconds)}, over its budget of ${formatDuration(budget.totalSeconds)}`);
  }
  return problems;
}

export function formatDuration(s: number): string {
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

export function formatTable(rows: readonly Row[], fixtures: readonly FixtureBuild[], budget: Budget): string {
  const lines = ['end-to-end files, slowest first (s; own time, fixtures apart):', '     own  allowed  file'];
  const cell = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(0)).padStart(8);
  for (const r of rows) {
    const over = r.allowance === undefined || r.seconds > r.allowance ? '  << over' : '';
    lines.push(`${cell(r.seconds)} ${cell(r.allowance)}  ${r.file}${over}`);
  }
  for (const f of fixtures) {
    const allowance = budget.fixtures[f.name];
    const over = allowance === undefined || f.seconds > allowance ? '  << over' : '';
    lines.push(`${cell(f.seconds)} ${cell(allowance)}  fixture ${f.name} (built for ${sourceName(f.testPath)})${over}`);
  }
  const own = rows.reduce((s, r) => s + r.seconds, 0) + fixtures.reduce((s, f) => s + f.seconds, 0);
  lines.push(`${cell(own)} ${cell(Object.values(budget.files).reduce((s, n) => s + n, 0) + Object.values(budget.fixtures).reduce((s, n) => s + n, 0))}  all end-to-end files (summed over the lanes)`);
  return lines.join('\n');
}

/** What the tests start and must stop: QEMU, kiln itself, the servers they run (Glance, sshd), base-tree tools. */
const TEST_PROCESS = /qemu-system-|\/bin\/(kiln|disk-image-create|ramdisk-image-create|image-pack|disk-image-get-kernel)\b|glance-api|sshd|mmdebstrap|apt-get|dpkg/;

/** `ps -eo pid=,args=` lines of such processes now that were not running before the run. */
export function newProcesses(before: readonly string[], after: readonly string[], self: readonly number[]): string[] {
  const pid = (line: string) => Number(line.trim().split(/\s+/)[0]);
  const had = new Set(before.map(pid));
  return after.filter((l) => l.trim() !== '' && !had.has(pid(l)) && !self.includes(pid(l)) && TEST_PROCESS.test(l)).map((l) => l.trim());
}

/** Entries of kiln's (named kiln*) in TMPDIR now that were not there before the run. */
export function newTempEntries(before: readonly string[], after: readonly string[]): string[] {
  const had = new Set(before);
  return after.filter((n) => n.startsWith('kiln') && !had.has(n)).sort();
}

function readJson<T>(file: string): T | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

function readFixtures(dir: string): FixtureBuild[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.fixture.json'))
    .map((n) => readJson<FixtureBuild>(path.join(dir, n)) as FixtureBuild)
    .sort((a, b) => b.seconds - a.seconds);
}

function main(argv: string[]): number {
  const dir = argv[0] ?? 'test-results';
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const partial = argv.includes('--partial');
  const started = opt('--started');
  const budget = readJson<Budget>(path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'test', 'e2e', 'budget.json'));
  if (!budget) throw new Error('test/e2e/budget.json is missing');

  const counts = { passed: 0, failed: 0, skipped: 0 };
  // unit.json, and one e2e-LANE.json per lane of end-to-end files (scripts/test).
  const unit = readJson<JestResults>(path.join(dir, 'unit.json'));
  const lanes = fs.readdirSync(dir).filter((n) => /^e2e-[a-z0-9]+\.json$/.test(n)).map((n) => readJson<JestResults>(path.join(dir, n)) as JestResults);
  for (const [what, missing] of [['unit', !unit], ['end-to-end', lanes.length === 0]] as const) {
    if (missing && !partial) {
      process.stderr.write(`no results from the ${what} tests\n`);
      counts.failed += 1;
    }
  }
  const c = countResults([...(unit ? [unit] : []), ...lanes]);
  counts.passed += c.passed;
  counts.failed += c.failed;
  counts.skipped += c.skipped;

  const e2e = lanes.length > 0 ? mergeResults(lanes) : undefined;
  const problems: string[] = [];
  if (e2e) {
    const fixtures = readFixtures(path.join(dir, 'e2e-images'));
    const rows = timingRows(e2e, fixtures, budget);
    const total = started && !partial ? Date.now() / 1000 - Number(started) : undefined;
    problems.push(...budgetProblems(rows, fixtures, budget, total, argv.includes('--shuffled')));
    process.stdout.write(`\n${formatTable(rows, fixtures, budget)}\n`);
    if (total !== undefined) process.stdout.write(`whole run: ${formatDuration(total)} (budget ${formatDuration(budget.totalSeconds)})\n`);
  }
  const beforeFile = opt('--tmp-before');
  if (beforeFile) {
    const before = fs.readFileSync(beforeFile, 'utf8').split('\n').filter((l) => l !== '');
    const left = newTempEntries(before, fs.readdirSync(os.tmpdir()));
    if (left.length > 0) problems.push(`the run left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} of kiln's in ${os.tmpdir()}: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''}`);
  }
  const psBefore = opt('--ps-before');
  if (psBefore) {
    const now = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n');
    const left = newProcesses(fs.readFileSync(psBefore, 'utf8').split('\n'), now, [process.pid, process.ppid]);
    if (left.length > 0) problems.push(`the run left ${left.length} process${left.length === 1 ? '' : 'es'} running: ${left.slice(0, 5).map((l) => l.slice(0, 120)).join('; ')}`);
  }
  for (const p of problems) process.stdout.write(`suite check FAILED: ${p}\n`);
  counts.failed += problems.length;
  process.stdout.write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  return counts.failed === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  process.exitCode = main(process.argv.slice(2));
}
