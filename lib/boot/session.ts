/**
 * One running QEMU: started inside a Scope (which always stops it), its serial console written to a
 * timestamped log and turned into milestones, and a way to wait for a condition with a deadline.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { failed, interrupted } from '../errors/index.js';
import { cancelSignal } from '../exec/cancel.js';
import { startProcess, type ExitInfo, type LongProcess } from '../exec/spawn.js';
import type { Scope } from '../scope/index.js';
import { qemuArgv, qemuBinary, type QemuPlan } from './argv.js';
import { cleanLine, recognizeLine } from './console.js';
import { requestPowerdown } from './qmp.js';
import type { Fatal, Milestone } from './types.js';

const MAX_LINES = 20000;

export interface Session {
  readonly plan: QemuPlan;
  readonly proc: LongProcess;
  readonly consoleLog: string;
  /** First time each milestone was seen, in seconds since QEMU started. */
  readonly seen: Map<Milestone, number>;
  readonly lines: string[];
  fatal: { readonly fatal: Fatal; readonly line: string } | undefined;
  exit: ExitInfo | undefined;
  elapsed(): number;
  mark(m: Milestone): void;
  /** Resolves with check()'s first defined value (checked now, on each console line and on exit), or undefined at the deadline (ms since the epoch). */
  until<T>(check: () => T | undefined, deadline: number): Promise<T | undefined>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      server.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function defaultConsoleLog(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return path.join(os.tmpdir(), `kiln-boot-${path.basename(name)}-${stamp}-${process.pid}.log`);
}

export interface StartSessionOptions {
  readonly expect?: RegExp;
  readonly consoleLog: string;
  readonly onConsoleLine?: (line: string, seconds: number) => void;
}

export function startSession(plan: QemuPlan, scope: Scope, opts: StartSessionOptions): Session {
  const argv = qemuArgv(plan);
  const log = fs.openSync(opts.consoleLog, 'w');
  let logOpen = true;
  const write = (text: string) => {
    if (logOpen) fs.writeSync(log, text);
  };
  scope.defer('close the console log', () => {
    logOpen = false;
    fs.closeSync(log);
  });
  const qemu = qemuBinary(plan);
  write(`# ${[qemu, ...argv].join(' ')}\n`);
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  const t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  const seen = new Map<Milestone, number>();
  const lines: string[] = [];
  const session: Session = {
    plan,
    consoleLog: opts.consoleLog,
    seen,
    lines,
    fatal: undefined,
    exit: undefined,
    elapsed,
    mark: (m) => {
      if (!seen.has(m)) seen.set(m, elapsed());
    },
    until: (check, deadline) => waitUntil(listeners, check, deadline),
    proc: startProcess(qemu, argv, {
      partialLineMs: 250,
      onLine: (raw, stream) => {
        const at = elapsed();
        const line = cleanLine(raw);
        write(`[${at.toFixed(3).padStart(8)}]${stream === 'stderr' ? ' qemu:' : ''} ${line}\n`);
        if (stream === 'stdout') {
          if (lines.length >= MAX_LINES) lines.shift();
          lines.push(line);
          for (const ev of recognizeLine(line, opts.expect)) {
            if (ev.kind === 'milestone') session.mark(ev.milestone);
            else session.fatal ??= { fatal: ev.fatal, line: line.trim() };
          }
          opts.onConsoleLine?.(line, at);
        }
        notify();
      },
    }),
  };
  void session.proc.exited.then((info) => {
    session.exit = info;
    write(`[${elapsed().toFixed(3).padStart(8)}] qemu: exited ${info.signal ?? info.exitCode ?? info.error}\n`);
    notify();
  });
  scope.defer('stop QEMU', async () => {
    const graceful = !plan.persist ? false : !cancelSignal().aborted;
    await stopSession(session, graceful ? 30_000 : 0);
  });
  return session;
}

/** Powers the guest off (ACPI, then waits up to graceMs) when asked, then makes sure QEMU is gone. */
export async function stopSession(session: Session, graceMs: number): Promise<void> {
  if (graceMs > 0 && session.proc.isRunning()) {
    if (session.plan.qmpSocket !== undefined) await requestPowerdown(session.plan.qmpSocket);
    await session.until(() => (session.exit ? true : undefined), Date.now() + graceMs);
  }
  await session.proc.stop(5000);
}

function waitUntil<T>(listeners: Set<() => void>, check: () => T | undefined, deadline: number): Promise<T | undefined> {
  const signal = cancelSignal();
  return new Promise<T | undefined>((resolve, reject) => {
    const done = (value: T | undefined, error?: Error) => {
      listeners.delete(listener);
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value);
    };
    const listener = () => {
      const v = check();
      if (v !== undefined) done(v);
    };
    const onAbort = () => done(undefined, interrupted(String(signal.reason ?? 'signal')));
    const timer = setTimeout(() => done(check()), Math.max(0, deadline - Date.now()));
    listeners.add(listener);
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();
    else listener();
  });
}

export function qemuExitMessage(info: ExitInfo | undefined, stderrTail: readonly string[]): string {
  if (info?.error) return info.error;
  const how = info?.signal ? `was killed by ${info.signal}` : `exited ${info?.exitCode ?? '?'}`;
  const why = stderrTail.filter((l) => l.trim() !== '' && !/warning:/.test(l)).pop();
  return `QEMU ${how}${why ? `: ${why.replace(/^qemu-system-[a-z0-9_]+: /, '')}` : ''}`;
}

export function requireQemuStarted(session: Session): void {
  if (session.exit?.error) throw failed(session.exit.error, { hint: 'install qemu-system-x86' });
}
