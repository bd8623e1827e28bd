/**
 * The build log: one line per step and per hook with its duration, hook output indented under it,
 * a final table of the slowest hooks, an optional --logfile copy, and with --json one JSON event per
 * line on stdout (the human log then goes to stderr).
 */
import fs from 'node:fs';

export type BuildEvent =
  | { event: 'build-start'; id: string; name: string; flavours: string[] }
  | { event: 'step-start'; step: string }
  | { event: 'step-end'; step: string; seconds: number; status: 'ok' | 'failed' | 'skipped'; detail?: string }
  | { event: 'hook-start'; phase: string; hook: string; flavour: string; where: string }
  | { event: 'hook-end'; phase: string; hook: string; flavour: string; seconds: number; exitCode: number }
  | { event: 'output'; path: string; format: string; bytes: number; reused?: boolean }
  | { event: 'cache'; step: string; state: string; key: string; reasons: string[]; from?: 'local' | 'registry' }
  | { event: 'cache-store'; step: string; key: string; bytes: number; seconds: number }
  | { event: 'cache-pull'; kind: string; key: string; bytes: number; seconds: number; registry: string }
  | { event: 'cache-push'; kind: string; key: string; bytes: number; seconds: number; registry: string; failed?: string }
  | { event: 'install-stage'; stage: string; seconds: number }
  | { event: 'build-end'; status: 'ok' | 'failed' | 'interrupted'; seconds: number; exitCode: number };

export interface HookTiming {
  readonly label: string;
  readonly seconds: number;
}

export class Logger {
  private readonly started = Date.now();
  private readonly file: number | undefined;
  private readonly hooks: HookTiming[] = [];

  constructor(private readonly opts: { json: boolean; logfile?: string | undefined; quiet?: boolean }) {
    this.file = opts.logfile ? fs.openSync(opts.logfile, 'a') : undefined;
  }

  /** A line of the human log. */
  info(text: string): void {
    const line = `[${this.elapsed().toFixed(1).padStart(6)}s] ${text}`;
    if (!this.opts.quiet) (this.opts.json ? process.stderr : process.stdout).write(`${line}\n`);
    if (this.file !== undefined) fs.writeSync(this.file, `${line}\n`);
  }

  warn(text: string): void {
    this.info(`warning: ${text}`);
  }

  /** Output of a hook or tool, indented under its step. */
  output(line: string): void {
    this.info(`    | ${line}`);
  }

  event(e: BuildEvent): void {
    if (this.opts.json) process.stdout.write(`${JSON.stringify({ t: Number(this.elapsed().toFixed(3)), ...e })}\n`);
    if (this.file !== undefined && this.opts.json) fs.writeSync(this.file, `${JSON.stringify(e)}\n`);
  }

  /** Times a step: logs its start and end with the duration, and emits events. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    this.info(`▶ ${name}`);
    this.event({ event: 'step-start', step: name });
    try {
      const r = await fn();
      const seconds = (Date.now() - t0) / 1000;
      this.info(`✓ ${name} (${seconds.toFixed(1)} s)`);
      this.event({ event: 'step-end', step: name, seconds, status: 'ok' });
      return r;
    } catch (e) {
      const seconds = (Date.now() - t0) / 1000;
      this.info(`✗ ${name} (${seconds.toFixed(1)} s)`);
      this.event({ event: 'step-end', step: name, seconds, status: 'failed' });
      throw e;
    }
  }

  recordHook(label: string, seconds: number): void {
    this.hooks.push({ label, seconds });
  }

  /** The slowest hooks, slowest first. */
  slowest(n = 10): HookTiming[] {
    return [...this.hooks].sort((a, b) => b.seconds - a.seconds).slice(0, n);
  }

  printSlowest(n = 10): void {
    const rows = this.slowest(n);
    if (rows.length === 0) return;
    this.info('Slowest hooks:');
    const width = Math.max(...rows.map((r) => r.label.length));
    for (const r of rows) this.info(`  ${r.label.padEnd(width)}  ${r.seconds.toFixed(2).padStart(7)} s`);
  }

  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  close(): void {
    if (this.file !== undefined) fs.closeSync(this.file);
  }
}
