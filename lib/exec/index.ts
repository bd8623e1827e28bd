/**
 * The only place kiln spawns processes. argv arrays only (never a shell string built from input),
 * one-line errors that name the command, the tail of its output as detail, and cancellation:
 * every process started here is killed when the build is interrupted.
 */
import { execa, type ResultPromise } from 'execa';
import { failed, interrupted } from '../errors/index.js';
import { cancelSignal } from './cancel.js';

export interface RunOptions {
  readonly cwd?: string;
  /** Full environment for the child (not merged with process.env unless you do it). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly input?: string | Buffer;
  /** Called with each line of stdout and stderr as it arrives. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Pass output straight to the terminal instead of capturing it. */
  readonly inherit?: boolean;
  readonly timeoutMs?: number;
  /** Don't throw on a non-zero exit; return the result. */
  readonly allowFailure?: boolean;
  /** How the failure is named in errors, e.g. "[vm] finalise.d/50-grub". Defaults to the command. */
  readonly label?: string;
  /** Lines of output kept for the error detail. */
  readonly tailLines?: number;
  /** Return stdout as a Buffer (binary). */
  readonly binary?: boolean;
  /** Called with the child's pid once it has started. */
  readonly onSpawn?: (pid: number) => void;
  /** false: an interrupt does not kill this child (the caller forwards signals itself). */
  readonly cancellable?: boolean;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly durationMs: number;
  /** The last lines of combined output. */
  readonly tail: readonly string[];
}

let tracer: ((argv: readonly string[]) => void) | undefined;

/** With -x, every command kiln runs is shown. */
export function setTracer(fn: ((argv: readonly string[]) => void) | undefined): void {
  tracer = fn;
}

export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const tailMax = opts.tailLines ?? 25;
  const tail: string[] = [];
  const label = opts.label ?? cmd;
  tracer?.([cmd, ...args]);
  const signal = opts.cancellable === false ? new AbortController().signal : cancelSignal();
  if (signal.aborted) throw interrupted(String(signal.reason ?? 'signal'));
  const child: ResultPromise = execa(cmd, args, {
    cwd: opts.cwd,
    env: opts.env as Record<string, string> | undefined,
    extendEnv: opts.env === undefined,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    stdout: opts.inherit ? 'inherit' : 'pipe',
    stderr: opts.inherit ? 'inherit' : 'pipe',
    encoding: opts.binary ? 'buffer' : 'utf8',
    stripFinalNewline: false,
    reject: false,
    // Its own process group, so that an interrupt reaches the command's children too.
    detached: opts.cancellable !== false,
    timeout: opts.timeoutMs,
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const stopGroup = opts.cancellable === false ? () => undefined : watchGroup(child, signal);
  if (!opts.inherit) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const s = child[stream];
      if (!s || opts.binary) continue;
      let partial = '';
      s.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) emit(line, stream);
      });
      s.on('end', () => {
        if (partial !== '') emit(partial, stream);
      });
    }
  }
  function emit(line: string, stream: 'stdout' | 'stderr') {
    tail.push(line);
    if (tail.length > tailMax) tail.shift();
    opts.onLine?.(line, stream);
  }
  const r = await child.finally(stopGroup);
  const durationMs = Date.now() - started;
  if (signal.aborted) throw interrupted(String(signal.reason ?? 'signal'));
  const result: RunResult = {
    stdout: typeof r.stdout === 'string' ? r.stdout : Buffer.isBuffer(r.stdout) ? (r.stdout as Buffer).toString('latin1') : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    exitCode: r.exitCode ?? (r.signal ? 128 : 1),
    durationMs,
    tail,
  };
  if (r.failed && (r as { code?: string }).code === 'ENOENT') {
    throw failed(`${label}: command not found: ${cmd}`, { hint: `install the package that provides ${cmd}` });
  }
  if (r.timedOut) throw failed(`${label} timed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, { detail: tail.join('\n') });
  if (result.exitCode !== 0 && !opts.allowFailure) {
    const how = r.signal ? `was killed by ${r.signal}` : `exited ${result.exitCode}`;
    throw failed(`${label} ${how}`, { detail: tail.join('\n') });
  }
  return result;
}

/**
 * Kills the child's process group on cancellation (TERM, then KILL after 3 s), and kills what is left
 * of the group 2 s after the child itself exited: a background process that inherited its output
 * pipes would otherwise hold the command open forever.
 */
function watchGroup(child: ResultPromise, signal: AbortSignal): () => void {
  const pid = child.pid;
  if (pid === undefined) return () => undefined;
  const timers: NodeJS.Timeout[] = [];
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* group gone */
    }
  };
  const onAbort = () => {
    killGroup('SIGTERM');
    timers.push(setTimeout(() => killGroup('SIGKILL'), 3000));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  child.once('exit', () => timers.push(setTimeout(() => killGroup('SIGKILL'), 2000)));
  return () => {
    signal.removeEventListener('abort', onAbort);
    for (const t of timers) clearTimeout(t);
  };
}

/** Runs and returns trimmed stdout. */
export async function capture(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run(cmd, args, opts)).stdout.trim();
}

/** True when the command exists on PATH. */
export async function hasCommand(cmd: string): Promise<boolean> {
  const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', cmd], { reject: false });
  return r.exitCode === 0;
}

/**
 * Runs a command on this terminal (inherited stdio) that outlives interrupts: SIGINT, SIGTERM and SIGHUP
 * sent to kiln are passed on to `relayTo(pid)` (default: the child itself), which decides how to stop.
 * Returns the exit code.
 */
export async function runRelayingSignals(
  cmd: string,
  args: readonly string[],
  opts: { env?: Readonly<Record<string, string | undefined>>; relayTo?: (pid: number) => readonly number[] } = {},
): Promise<number> {
  let pid: number | undefined;
  const relay = (sig: NodeJS.Signals) => {
    if (pid === undefined) return;
    for (const target of opts.relayTo ? opts.relayTo(pid) : [pid]) {
      try {
        process.kill(target, sig);
      } catch {
        /* already gone */
      }
    }
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => relay(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const r = await run(cmd, args, {
      inherit: true,
      allowFailure: true,
      cancellable: false,
      ...(opts.env ? { env: opts.env } : {}),
      onSpawn: (p) => {
        pid = p;
      },
    });
    return r.exitCode;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
