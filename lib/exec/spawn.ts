/**
 * Long-running processes (QEMU, servers): start one, stream its output as lines, stop it. Still the
 * one spawn site (lib/exec). Every process started here is killed when kiln is interrupted (the
 * cancel signal), when kiln exits, and — where util-linux's setpriv exists — when kiln dies, even by
 * SIGKILL (the child's parent-death signal).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { interrupted } from '../errors/index.js';
import { cancelSignal } from './cancel.js';

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Each line of stdout and stderr as it arrives (without the line ending). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Emit an unterminated line after this much silence (prompts such as "login: " never end in a
   * newline). The rest of that line, if it ever comes, arrives as a new line.
   */
  readonly partialLineMs?: number;
  /** Kill the child when kiln dies (via setpriv --pdeathsig, when available). Default true. */
  readonly dieWithParent?: boolean;
  /** Lines of stderr kept for error messages. */
  readonly tailLines?: number;
}

export interface ExitInfo {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Set when the process could not be started (e.g. command not found). */
  readonly error: string | undefined;
}

export interface LongProcess {
  readonly pid: number | undefined;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** The last lines of stderr. */
  stderrTail(): readonly string[];
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. Safe to call twice. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const live = new Set<ResultPromise>();
let exitHookInstalled = false;

/** Last resort: whatever is still running when kiln exits is killed. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const found = new Map<string, string | null>();

/** The command's path (looked up on PATH once), or null. */
export function findCommand(cmd: string): string | null {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? cmd : null;
  const known = found.get(cmd);
  if (known !== undefined) return known;
  let hit: string | null = null;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    if (dir !== '' && fs.existsSync(p)) {
      hit = p;
      break;
    }
  }
  found.set(cmd, hit);
  return hit;
}

/** The argv actually run: wrapped in setpriv so that the child dies with kiln. Pure given `setpriv`. */
export function wrapDieWithParent(cmd: string, args: readonly string[], setpriv: string | null): [string, string[]] {
  return setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]] : [cmd, [...args]];
}

export function startProcess(cmd: string, args: readonly string[], opts: StartOptions = {}): LongProcess {
  const signal = cancelSignal();
  if (signal.aborted) throw interrupted(String(signal.reason ?? 'signal'));
  if (findCommand(cmd) === null) return notStarted(`command not found: ${cmd}`);
  const [file, argv] = opts.dieWithParent === false ? [cmd, [...args]] : wrapDieWithParent(cmd, args, findCommand('setpriv'));
  installExitHook();
  const child = execa(file, argv, {
    cwd: opts.cwd,
    env: opts.env as Record<string, string> | undefined,
    extendEnv: opts.env === undefined,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cancelSignal: signal,
    forceKillAfterDelay: 5000,
  });
  live.add(child);
  const tailMax = opts.tailLines ?? 25;
  const tail: string[] = [];
  let running = true;
  for (const stream of ['stdout', 'stderr'] as const) {
    const s = child[stream];
    if (!s) continue;
    let partial = '';
    let timer: NodeJS.Timeout | undefined;
    const emit = (line: string) => {
      const text = line.replace(/\r+$/, '');
      if (stream === 'stderr') {
        tail.push(text);
        if (tail.length > tailMax) tail.shift();
      }
      opts.onLine?.(text, stream);
    };
    s.on('data', (chunk: Buffer) => {
      if (timer) clearTimeout(timer);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) emit(line);
      if (partial !== '' && opts.partialLineMs !== undefined) {
        timer = setTimeout(() => {
          const p = partial;
          partial = '';
          emit(p);
        }, opts.partialLineMs);
      }
    });
    s.on('end', () => {
      if (timer) clearTimeout(timer);
      if (partial !== '') emit(partial);
      partial = '';
    });
  }
  // Settles on the process's own exit (a grandchild holding the pipes open does not delay it), or
  // when execa gives up on a process that never started.
  const exited = new Promise<ExitInfo>((resolve) => {
    const settle = (info: ExitInfo) => {
      running = false;
      live.delete(child);
      resolve(info);
    };
    child.once('exit', (code, sig) => settle({ exitCode: code ?? undefined, signal: sig ?? undefined, error: undefined }));
    child.then(
      (r) => settle({ exitCode: r.exitCode, signal: r.signal, error: r.failed && r.exitCode === undefined && r.signal === undefined ? r.shortMessage : undefined }),
      (e: unknown) => settle({ exitCode: undefined, signal: undefined, error: (e as Error).message }),
    );
  });
  return {
    pid: child.pid,
    exited,
    isRunning: () => running,
    stderrTail: () => tail,
    async stop(graceMs = 5000) {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function notStarted(error: string): LongProcess {
  const exited = Promise.resolve<ExitInfo>({ exitCode: undefined, signal: undefined, error });
  return { pid: undefined, exited, isRunning: () => false, stderrTail: () => [], stop: () => exited };
}
