/**
 * A guest under plain QEMU, started as an operator would (not through kiln's runner): a qcow2 overlay of the
 * image, an OpenStack config drive or NoCloud seed made here with genisoimage, user-mode networking with SSH
 * forwarded on 127.0.0.1, the serial console to a file. Tests log in over SSH and power the guest off.
 * arm64 guests: qemu-system-aarch64 -M virt with AAVMF (a copy of its variable store per boot), waited for
 * until the serial console shows a login prompt (bootPlainToLogin).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../helpers/server.js';

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 26 });

function must(cmd: string, args: string[]): string {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A qcow2 overlay of `image` with a virtual size of `size` (qemu-img's syntax, e.g. 4G). */
export function overlay(image: string, file: string, size: string): string {
  must('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.resolve(image), '-F', 'qcow2', file, size]);
  return file;
}

/** An ISO 9660 image labelled `label` holding `files` (path inside → content). */
export function metadataIso(dir: string, label: string, files: Record<string, string>): string {
  const stage = path.join(dir, `${label}.d`);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true });
    fs.writeFileSync(path.join(stage, rel), content);
  }
  const iso = path.join(dir, `${label}.iso`);
  must('genisoimage', ['-quiet', '-output', iso, '-volid', label, '-joliet', '-rock', stage]);
  return iso;
}

export { freePort };

export interface PlainVm {
  readonly port: number;
  readonly consoleLog: string;
  /** Seconds from QEMU's start to the first SSH login. */
  readonly sshSeconds: number;
  ssh(user: string, key: string, command: string): { code: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

function sshArgs(port: number, user: string, key: string, command: string): string[] {
  return ['-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', '-p', String(port), `${user}@127.0.0.1`, '--', command];
}

/** The arm64 machine as an operator starts one: virt, TCG, AAVMF's code read-only and a private copy of its variables. */
export function arm64MachineArgs(varsCopy: string): string[] {
  fs.copyFileSync('/usr/share/AAVMF/AAVMF_VARS.fd', varsCopy);
  return [
    '-machine', 'virt', '-accel', 'tcg', '-cpu', 'cortex-a57', '-m', '1024', '-smp', '2',
    '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd',
    '-drive', `if=pflash,format=raw,unit=1,file=${varsCopy}`,
  ];
}

/**
 * Boots `disk` (qcow2, a throw-away snapshot) on an arm64 machine with a virtio disk and network and waits for a
 * login prompt on the serial console (ttyAMA0); returns the seconds to it and to GRUB's and the kernel's first lines.
 */
export async function bootPlainToLogin(o: { disk: string; dir: string; consoleLog: string; timeoutS: number }): Promise<{ loginSeconds: number; console: string }> {
  const log = fs.openSync(o.consoleLog, 'w');
  const t0 = Date.now();
  const qemu = spawn(
    'qemu-system-aarch64',
    [
      ...arm64MachineArgs(path.join(o.dir, 'AAVMF_VARS.fd')),
      '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
      '-drive', `file=${o.disk},format=qcow2,if=virtio,snapshot=on`,
      '-nic', 'user,model=virtio-net-pci',
    ],
    { stdio: ['ignore', 'pipe', log] },
  );
  let text = '';
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no login prompt within ${o.timeoutS} s:\n${text.split('\n').slice(-20).join('\n')}`)), o.timeoutS * 1000);
      (qemu.stdout as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        fs.writeSync(log, d);
        text += d.toString();
        if (/^\S+ login: ?/m.test(text)) {
          clearTimeout(timer);
          resolve({ loginSeconds: (Date.now() - t0) / 1000, console: text });
        }
      });
      qemu.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`QEMU exited ${code} before a login prompt:\n${text.split('\n').slice(-20).join('\n')}`));
      });
    });
  } finally {
    qemu.removeAllListeners('exit');
    if (qemu.exitCode === null) {
      qemu.kill('SIGTERM');
      await new Promise((r) => qemu.once('exit', r));
    }
    fs.closeSync(log);
  }
}

/** Boots `disk` (qcow2) with `cdrom` attached, under TCG, and waits until `user` logs in with `key` over SSH. */
export async function bootPlain(o: { disk: string; cdrom: string; consoleLog: string; user: string; key: string; timeoutS: number }): Promise<PlainVm> {
  const port = await freePort();
  const log = fs.openSync(o.consoleLog, 'w');
  const t0 = Date.now();
  const qemu: ChildProcess = spawn(
    'qemu-system-x86_64',
    [
      '-machine', 'q35', '-accel', 'tcg,thread=single', '-cpu', 'max', '-m', '1024', '-smp', '2',
      '-display', 'none', '-vga', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
      '-drive', `file=${o.disk},format=qcow2,if=virtio`,
      '-drive', `file=${o.cdrom},format=raw,media=cdrom,readonly=on`,
      '-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${port}-:22`,
    ],
    { stdio: ['ignore', log, log] },
  );
  let exited = false;
  qemu.on('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      qemu.kill('SIGTERM');
      await new Promise((r) => (exited ? r(undefined) : qemu.once('exit', r)));
    }
    fs.closeSync(log);
  };
  const ssh = (user: string, key: string, command: string) => {
    const r = spawnSync('ssh', sshArgs(port, user, key, command), { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const deadline = t0 + o.timeoutS * 1000;
  let last = '';
  while (Date.now() < deadline && !exited) {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn('ssh', sshArgs(port, o.user, o.key, 'true'), { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('close', (code) => resolve({ code, stderr: err }));
    });
    if (r.code === 0) return { port, consoleLog: o.consoleLog, sshSeconds: (Date.now() - t0) / 1000, ssh, stop };
    last = r.stderr.trim();
    await new Promise((r2) => setTimeout(r2, 2000));
  }
  await stop();
  const tail = fs.readFileSync(o.consoleLog, 'utf8').split('\n').slice(-20).join('\n');
  throw new Error(`no SSH login as ${o.user} within ${o.timeoutS} s${exited ? ' (QEMU exited)' : ''}: ${last}\n${tail}`);
}
