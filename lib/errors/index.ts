/**
 * Errors are values with a culprit. Every error kiln raises on purpose is a KilnError; its exit code
 * is one of the documented codes, and its message is one line that names what to fix.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  invalid: 2,
  interrupted: 130,
} as const;

export type ExitKind = keyof typeof EXIT;

export class KilnError extends Error {
  readonly kind: ExitKind;
  /** Extra lines shown under the message (e.g. the tail of a hook's output). */
  readonly detail: string | undefined;
  /** A short suggestion of what to do. */
  readonly hint: string | undefined;

  constructor(kind: ExitKind, message: string, opts: { detail?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KilnError';
    this.kind = kind;
    this.detail = opts.detail;
    this.hint = opts.hint;
  }

  get exitCode(): number {
    return EXIT[this.kind];
  }
}

/** Bad input: the user must change a flag, a file or a flavour. Exit 2. */
export function invalid(message: string, hint?: string): KilnError {
  return new KilnError('invalid', message, hint === undefined ? {} : { hint });
}

/** The build (or check) ran and failed. Exit 1. */
export function failed(message: string, opts: { detail?: string; hint?: string; cause?: unknown } = {}): KilnError {
  return new KilnError('failed', message, opts);
}

export function interrupted(signal: string): KilnError {
  return new KilnError('interrupted', `interrupted by ${signal}`);
}

/** A child kiln (the namespaced build) already reported; exit with its code and print nothing. */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}

/** Formats an error for the terminal: one line, plus detail and hint; the stack only when debugging. */
export function formatError(e: unknown, debug: boolean): string {
  if (e instanceof ExitWith) return '';
  if (isKilnError(e)) {
    const lines = [`kiln: error: ${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}`];
    if (e.detail) lines.push(e.detail.replace(/\n+$/, ''));
    if (debug && e.stack) lines.push(e.stack);
    return lines.join('\n');
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return debug && err.stack ? `kiln: internal error: ${err.stack}` : `kiln: internal error: ${err.message} (run with --debug for the stack)`;
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof ExitWith) return e.code;
  return isKilnError(e) ? e.exitCode : EXIT.failed;
}
