/**
 * Process-wide cancellation: SIGINT/SIGTERM/SIGHUP abort the controller; every process started through
 * lib/exec is killed, the error unwinds every scope (unmount, detach, remove) and kiln exits 130.
 */
let controller = new AbortController();
let installed = false;

export function cancelSignal(): AbortSignal {
  return controller.signal;
}

export function cancel(reason: string): void {
  if (!controller.signal.aborted) controller.abort(reason);
}

/** Installs the signal handlers once. A second signal while unwinding is ignored: teardown must finish. */
export function installSignalHandlers(onSignal?: (signal: string) => void): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      onSignal?.(sig);
      cancel(sig);
    });
  }
}

/** For tests. */
export function resetCancellation(): void {
  controller = new AbortController();
}
