/** Servers a test starts (a registry, Glance): a free port on loopback, and stopping one with its children. */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (the servers tests start listen on loopback only). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Stops a server started `detached` (its own process group): TERM to the group, KILL after `graceMs`. */
export async function stopServer(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const done = new Promise((r) => child.once('exit', r));
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), sig);
      } catch {
        /* gone */
      }
    };
    kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    kill('SIGKILL');
  }
  child.stderr?.destroy();
}
