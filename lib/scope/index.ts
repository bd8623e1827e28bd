/**
 * Scoped resources: every mount, loop device, temporary directory and partial output is acquired
 * through a Scope, which registers its undo step. close() runs the undo steps in reverse order, on
 * success, failure and interruption alike, and keeps going when one of them fails.
 */
export type Undo = () => Promise<void> | void;

export class Scope {
  private readonly undos: { label: string; undo: Undo }[] = [];
  private closed = false;

  constructor(private readonly onUndoError: (label: string, e: unknown) => void = defaultReport) {}

  /** Registers an undo step; returns a function that runs it early (and only once). */
  defer(label: string, undo: Undo): () => Promise<void> {
    const entry = { label, undo };
    this.undos.push(entry);
    return async () => {
      const i = this.undos.indexOf(entry);
      if (i < 0) return;
      this.undos.splice(i, 1);
      await undo();
    };
  }

  /** Acquires a resource and registers its release in one step. */
  async acquire<T>(label: string, make: () => Promise<T>, release: (value: T) => Promise<void> | void): Promise<T> {
    const value = await make();
    this.defer(label, () => release(value));
    return value;
  }

  /** Forgets an undo step (e.g. a partial output that was renamed into place). */
  keep(label: string): void {
    const i = this.undos.findIndex((u) => u.label === label);
    if (i >= 0) this.undos.splice(i, 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.undos.length > 0) {
      const { label, undo } = this.undos.pop() as { label: string; undo: Undo };
      try {
        await undo();
      } catch (e) {
        this.onUndoError(label, e);
      }
    }
  }
}

function defaultReport(label: string, e: unknown): void {
  process.stderr.write(`kiln: warning: cleanup step "${label}" failed: ${(e as Error).message}\n`);
}

/** Runs fn with a fresh scope and always closes it. */
export async function withScope<T>(fn: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope();
  try {
    return await fn(scope);
  } finally {
    await scope.close();
  }
}
