/** Asks the guest to power off (ACPI power button) through QEMU's QMP socket. Best effort. */
import net from 'node:net';

export function requestPowerdown(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.createConnection(socketPath);
    let buffer = '';
    let sent = false;
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      // Greeting first; then the capabilities answer; then powerdown's.
      if (!sent && buffer.includes('"QMP"')) {
        sent = true;
        sock.write('{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n');
      }
      if ((buffer.match(/"return"/g) ?? []).length >= 2) finish(true);
    });
  });
}

/** Disk I/O counters of every block device, summed: what the guest has read and written so far. */
export interface BlockTotals {
  readonly rdBytes: number;
  readonly wrBytes: number;
}

/**
 * Asks QEMU for `query-blockstats` over its QMP socket (one short connection per call, so a stalled
 * guest or a gone QEMU never blocks the caller longer than timeoutMs). undefined when QEMU did not answer.
 */
export function queryBlockTotals(socketPath: string, timeoutMs = 2000): Promise<BlockTotals | undefined> {
  return new Promise((resolve) => {
    const sock = net.createConnection(socketPath);
    let buffer = '';
    let sent = false;
    const finish = (v: BlockTotals | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (!sent && buffer.includes('"QMP"')) {
        sent = true;
        sock.write('{"execute":"qmp_capabilities"}\n{"execute":"query-blockstats","id":"kiln-stats"}\n');
      }
      for (const line of buffer.split('\n')) {
        if (!line.includes('"kiln-stats"')) continue;
        try {
          const r = JSON.parse(line) as { return?: { stats?: { rd_bytes?: number; wr_bytes?: number } }[] };
          const all = r.return ?? [];
          finish({ rdBytes: all.reduce((n, d) => n + (d.stats?.rd_bytes ?? 0), 0), wrBytes: all.reduce((n, d) => n + (d.stats?.wr_bytes ?? 0), 0) });
        } catch {
          finish(undefined);
        }
        return;
      }
    });
  });
}
