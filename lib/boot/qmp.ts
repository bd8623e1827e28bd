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
