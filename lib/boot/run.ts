/**
 * Boot, wait for the expectation (login prompt, --expect line, SSH), report, and always stop QEMU.
 * bootImage() reports; withBootedImage() hands the running machine to a function, then powers it off.
 */
import { failed } from '../errors/index.js';
import { withScope } from '../scope/index.js';
import { describeFatal } from './console.js';
import { DEFAULT_TIMEOUT_S, prepareBoot, type Prepared } from './prepare.js';
import { defaultConsoleLog, qemuExitMessage, requireQemuStarted, startSession, stopSession, type Session } from './session.js';
import { SSH_CONNECT_FAILED, findSshKey, runSsh, type SshResult, type SshTarget } from './ssh.js';
import { MILESTONES, type BootOptions, type BootReport, type Milestone, type Outcome } from './types.js';

export interface BootedVm {
  readonly report: BootReport;
  readonly sshPort: number;
  /** Runs a command as root over SSH (the local key); never throws for a non-zero exit. */
  ssh(command: string, opts?: { timeoutS?: number }): Promise<SshResult>;
  /** The (cleaned) console lines so far. */
  consoleLines(): readonly string[];
  /** The first console line so far or within timeoutS that matches, or undefined. */
  waitForConsole(re: RegExp, timeoutS: number): Promise<string | undefined>;
  /** True when QEMU exits (the guest powered off) within timeoutS. */
  waitForExit(timeoutS: number): Promise<boolean>;
}

export async function bootImage(opts: BootOptions): Promise<BootReport> {
  return withScope(async (scope) => {
    const prepared = await prepareBoot(opts, scope);
    const session = begin(prepared, opts, scope);
    return awaitReady(session, prepared, opts);
  });
}

/** Boots, waits for an SSH login (after the expect line, if any), runs fn, then powers off; throws (exit 1) if the boot fails. */
export async function withBootedImage<T>(opts: BootOptions, fn: (vm: BootedVm) => Promise<T>): Promise<T> {
  return withScope(async (scope) => {
    const withSsh = { ...opts, ssh: opts.ssh ?? true };
    const prepared = await prepareBoot(withSsh, scope);
    const session = begin(prepared, opts, scope);
    const report = await awaitReady(session, prepared, withSsh);
    if (!report.ok) {
      throw failed(`boot: ${report.message}`, { detail: session.lines.slice(-15).join('\n'), hint: `console log: ${report.consoleLog}` });
    }
    let key: string | undefined;
    const target = (): SshTarget => ({ port: prepared.plan.sshPort, key: (key ??= findSshKey(opts.sshKey)), ...(opts.sshUser ? { user: opts.sshUser } : {}) });
    const vm: BootedVm = {
      report,
      sshPort: prepared.plan.sshPort,
      ssh: (command, o) => runSsh(target(), command, (o?.timeoutS ?? 120) * 1000),
      consoleLines: () => session.lines,
      waitForConsole: (re, timeoutS) => session.until(() => session.lines.find((l) => re.test(l)), Date.now() + timeoutS * 1000),
      waitForExit: async (timeoutS) => (await session.until(() => (session.exit ? true : undefined), Date.now() + timeoutS * 1000)) ?? false,
    };
    const result = await fn(vm);
    if (session.proc.isRunning() && report.ssh) {
      // A clean shutdown so that a --persist image keeps what the guest wrote; QEMU is stopped by the scope regardless.
      void runSsh(target(), opts.sshUser && opts.sshUser !== 'root' ? 'sudo -n systemctl poweroff || sudo -n poweroff' : 'systemctl poweroff || poweroff', 15_000);
      await stopSession(session, 60_000);
    }
    return result;
  });
}

function begin(prepared: Prepared, opts: BootOptions, scope: Parameters<typeof startSession>[1]): Session {
  const consoleLog = opts.consoleLog ?? defaultConsoleLog(opts.image ?? opts.kernel ?? 'qemu');
  const session = startSession(prepared.plan, scope, {
    consoleLog,
    ...(opts.expect ? { expect: opts.expect } : {}),
    ...(opts.onConsoleLine ? { onConsoleLine: opts.onConsoleLine } : {}),
  });
  return session;
}

type Ending = { outcome: Outcome; message: string; ssh?: BootReport['ssh'] };

async function awaitReady(session: Session, prepared: Prepared, opts: BootOptions): Promise<BootReport> {
  const deadline = Date.now() + (opts.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
  // With SSH and no --expect line, an SSH login proves the boot on its own: it is tried from the start, so a
  // login prompt garbled by console output (or a guest without a serial getty) cannot fail a good boot.
  if (opts.ssh && !opts.expect) return finish(session, prepared, opts, await awaitSsh(session, prepared, opts, deadline));
  const target: Milestone = opts.expect ? 'expect' : 'login';
  const what = opts.expect ? `a console line matching /${opts.expect.source}/` : 'a login prompt';
  const reached = await session.until(() => (session.seen.has(target) ? 'met' : session.fatal ? 'fatal' : session.exit ? 'exited' : undefined), deadline);
  let ending: Ending;
  if (reached === 'met') {
    ending = opts.ssh ? await awaitSsh(session, prepared, opts, deadline) : { outcome: 'ok', message: `${what} after ${secs(session.seen.get(target))} s` };
  } else {
    ending = failure(session, reached, `${what}`, opts.timeoutS ?? DEFAULT_TIMEOUT_S);
  }
  return finish(session, prepared, opts, ending);
}

async function finish(session: Session, prepared: Prepared, opts: BootOptions, ending: Ending): Promise<BootReport> {
  if (ending.outcome !== 'ok' && session.fatal) await session.until(() => undefined, Date.now() + 300); // the panic's next lines, for the log
  requireQemuStarted(session);
  return makeReport(session, prepared, opts, ending);
}

function failure(session: Session, reached: 'fatal' | 'exited' | undefined, what: string, timeoutS: number): Ending {
  if (reached === 'fatal' && session.fatal) {
    return { outcome: session.fatal.fatal, message: `${describeFatal(session.fatal.fatal)} before ${what}` };
  }
  if (reached === 'exited') return { outcome: 'qemu-exited', message: `${qemuExitMessage(session.exit, session.proc.stderrTail())} before ${what}` };
  return { outcome: 'timeout', message: `no ${what.replace(/^an? /, '')} within ${timeoutS} s${lastMilestone(session)}` };
}

function lastMilestone(session: Session): string {
  const last = [...session.seen.entries()].sort((a, b) => a[1] - b[1]).pop();
  return last ? ` (last milestone: ${last[0]} at ${secs(last[1])} s)` : ' (no milestone reached)';
}

async function awaitSsh(session: Session, prepared: Prepared, opts: BootOptions, deadline: number): Promise<Ending> {
  const target: SshTarget = { port: prepared.plan.sshPort, key: findSshKey(opts.sshKey), ...(opts.sshUser ? { user: opts.sshUser } : {}) };
  const command = opts.sshCommand ?? 'true';
  let lastError = '';
  for (;;) {
    if (session.fatal) return failure(session, 'fatal', 'SSH', 0);
    if (session.exit) return failure(session, 'exited', 'SSH', 0);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const why = lastError ? `: ${lastError}` : '';
      return { outcome: 'timeout', message: `no SSH login on 127.0.0.1:${target.port} within ${opts.timeoutS ?? DEFAULT_TIMEOUT_S} s${lastMilestone(session)}${why}` };
    }
    const r = await runSsh(target, command, Math.min(remaining, 60_000));
    if (r.exitCode !== SSH_CONNECT_FAILED) {
      session.mark('ssh');
      const ssh = { command, exitCode: r.exitCode, stdout: r.stdout };
      return r.exitCode === 0
        ? { outcome: 'ok', message: `SSH login after ${secs(session.seen.get('ssh'))} s`, ssh }
        : { outcome: 'ssh-failed', message: `over SSH, \`${command}\` exited ${r.exitCode}`, ssh };
    }
    lastError = r.stderr.trim().split('\n').pop() ?? '';
    await session.until(() => (session.exit || session.fatal ? true : undefined), Math.min(deadline, Date.now() + 2000));
  }
}

function makeReport(session: Session, prepared: Prepared, opts: BootOptions, ending: Ending): BootReport {
  const shown = MILESTONES.filter((m) => (m === 'expect' ? opts.expect !== undefined : m === 'ssh' ? opts.ssh === true : true));
  return {
    ok: ending.outcome === 'ok',
    outcome: ending.outcome,
    message: ending.message,
    accel: prepared.accel.accel,
    accelReason: prepared.accel.reason,
    milestones: shown.map((name) => ({ name, seconds: session.seen.get(name) })),
    seconds: session.elapsed(),
    consoleLog: session.consoleLog,
    sshPort: prepared.plan.sshPort,
    ...(ending.ssh ? { ssh: ending.ssh } : {}),
    ...(session.fatal ? { fatalLine: session.fatal.line } : {}),
  };
}

function secs(s: number | undefined): string {
  return (s ?? 0).toFixed(1);
}
