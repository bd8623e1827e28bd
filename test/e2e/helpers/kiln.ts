import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(process.cwd());

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a kiln executable and waits; `onStdout` sees output as it arrives (to time a signal). */
export function kiln(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; bin?: string; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number; wrap?: string[] } = {},
): Promise<Run> {
  const t0 = Date.now();
  const argv = [process.execPath, '--', path.join(REPO, 'bin', opts.bin ?? 'kiln'), ...args];
  // wrap: a command that runs kiln (e.g. nsenter into a test host's network namespace).
  const full = [...(opts.wrap ?? []), ...argv];
  const child = spawn(full[0] as string, full.slice(1), {
    cwd: opts.cwd ?? REPO,
    // The step cache is off unless a test turns it on (KILN_NO_CACHE: '0'): tests assert what hooks do.
    env: { ...process.env, NODE_OPTIONS: '', KILN_NO_CACHE: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    opts.onStderr?.(stderr, child);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20 * 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

/** What a build could leave behind on the host. */
export interface HostState {
  mounts: string[];
  loops: string[];
  workDirs: string[];
}

/**
 * Where this test run's builds work and write: TMPDIR (scripts/test gives each lane of end-to-end files its
 * own) and the run's test-results. Only mounts and loop devices there are this lane's: the other lane's builds
 * may mount and attach at the same time.
 */
const ours = (p: string) => [os.tmpdir(), path.join(REPO, 'test-results')].some((dir) => p === dir || p.startsWith(`${dir}/`));

export function hostState(): HostState {
  const mounts = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '' && ours(l)).sort();
  const loops = spawnSync('losetup', ['-n', '-l', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => ours(l.trim().split(/\s+/)[1] ?? '')).sort();
  const workDirs = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('kiln-build-')).sort();
  return { mounts, loops, workDirs };
}

/** Asserts nothing new is mounted, attached or left in TMPDIR, and no partial output sits in dir. */
export function expectNoLeaks(before: HostState, outDir: string): void {
  const after = hostState();
  expect(after.mounts.filter((m) => !before.mounts.includes(m))).toEqual([]);
  expect(after.loops.filter((l) => !before.loops.includes(l))).toEqual([]);
  expect(after.workDirs.filter((d) => !before.workDirs.includes(d))).toEqual([]);
  expect(fs.readdirSync(outDir).filter((n) => n.includes('.kiln-part-'))).toEqual([]);
}

/** Waits until fn() is true (polling), or fails after ms. */
export async function waitFor(fn: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A --json build's events, and what the step cache and the phases did in it. */
export interface BuildEventLine {
  event: string;
  step?: string;
  state?: string;
  reasons?: string[];
  phase?: string;
  /** cache: where a hit came from; cache-pull / cache-push: base or step, the key, bytes sent, why it failed. */
  from?: 'local' | 'registry';
  kind?: string;
  key?: string;
  bytes?: number;
  failed?: string;
}
export const buildEvents = (r: Run): BuildEventLine[] => r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as BuildEventLine);
export const cacheStates = (r: Run): string[] => buildEvents(r).filter((e) => e.event === 'cache').map((e) => `${e.step}:${e.state}`);
export const cacheReasons = (r: Run, step: string): string[] => buildEvents(r).find((e) => e.event === 'cache' && e.step === step)?.reasons ?? [];
export const phasesRun = (r: Run): string[] => [...new Set(buildEvents(r).filter((e) => e.event === 'hook-start').map((e) => e.phase as string))];
export const cacheStores = (r: Run): string[] => buildEvents(r).filter((e) => e.event === 'cache-store').map((e) => e.step as string);
/** `step:state:from` of every cache event (from: local or registry, for hits). */
export const cacheSources = (r: Run): string[] => buildEvents(r).filter((e) => e.event === 'cache').map((e) => `${e.step}:${e.state}${e.from ? `:${e.from}` : ''}`);

/** The run's shared apt package cache (what every Debian build of the run downloads into). */
export const aptArchives = (): string => path.join(process.env.DIB_IMAGE_CACHE ?? path.join(os.homedir(), '.cache', 'image-create'), 'kiln', 'apt-archives');

/** Every package file in an apt-archives directory (one subdirectory per release and architecture). */
export function debsIn(dir: string): string[] {
  return fs.readdirSync(dir).flatMap((d) => {
    const sub = path.join(dir, d);
    return fs.statSync(sub).isDirectory() ? fs.readdirSync(sub).filter((f) => f.endsWith('.deb')).map((f) => path.join(sub, f)) : [];
  });
}
