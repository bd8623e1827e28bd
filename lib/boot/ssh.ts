/** SSH into a booted guest through the port forwarded on 127.0.0.1: the argv, the key, one attempt. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { run } from '../exec/index.js';

export interface SshTarget {
  readonly port: number;
  readonly key: string;
  readonly user?: string;
  /** Seconds to wait for the TCP connection and key exchange. */
  readonly connectTimeoutS?: number;
}

/** ssh's own exit code for "could not connect or authenticate" (a command's exit code is passed through). */
export const SSH_CONNECT_FAILED = 255;

export function sshArgv(target: SshTarget, command: string): string[] {
  return [
    '-i', target.key,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-o', `ConnectTimeout=${target.connectTimeoutS ?? 10}`,
    '-p', String(target.port),
    `${target.user ?? 'root'}@127.0.0.1`,
    '--',
    command,
  ];
}

/** Home directories to look in: the user's, and with sudo the invoking user's too. */
export function candidateHomes(env: NodeJS.ProcessEnv = process.env, passwd = readPasswd()): string[] {
  const homes = [env.HOME ?? os.homedir()];
  const sudoUser = env.SUDO_USER;
  if (sudoUser) {
    const line = passwd.split('\n').find((l) => l.startsWith(`${sudoUser}:`));
    const home = line?.split(':')[5];
    if (home) homes.push(home);
  }
  return [...new Set(homes)];
}

function readPasswd(): string {
  try {
    return fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}

/** The local private key: --ssh-key, else ~/.ssh/id_ed25519, else ~/.ssh/id_rsa. */
export function findSshKey(explicit: string | undefined, homes: readonly string[] = candidateHomes()): string {
  if (explicit !== undefined) {
    if (!fs.existsSync(explicit)) throw invalid(`--ssh-key: "${explicit}" does not exist`);
    return explicit;
  }
  for (const home of homes) {
    for (const name of ['id_ed25519', 'id_rsa']) {
      const p = path.join(home, '.ssh', name);
      if (fs.existsSync(p)) return p;
    }
  }
  throw invalid('--ssh: no SSH key found (looked for ~/.ssh/id_ed25519 and ~/.ssh/id_rsa)', 'create one with ssh-keygen, or name one with --ssh-key FILE');
}

export interface SshResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** One ssh run; exit code 255 means no connection (yet). */
export async function runSsh(target: SshTarget, command: string, timeoutMs: number): Promise<SshResult> {
  try {
    const r = await run('ssh', sshArgv(target, command), { allowFailure: true, timeoutMs, label: `ssh ${command}` });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  } catch (e) {
    if ((e as { kind?: string }).kind === 'interrupted' || /command not found/.test((e as Error).message)) throw e;
    return { stdout: '', stderr: (e as Error).message, exitCode: SSH_CONNECT_FAILED };
  }
}
