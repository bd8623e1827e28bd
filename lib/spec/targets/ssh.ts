/**
 * A live host over SSH as a target: OpenSSH's client, key authentication only (BatchMode: never a
 * password prompt), strict host-key checking against known_hosts (an unknown or changed key is refused,
 * never accepted silently), one multiplexed connection for the whole run, and `sudo -n` in front of every
 * command when the login user is not root. argv is shell-quoted element by element for the remote shell.
 */
import fs from 'node:fs';
import path from 'node:path';
import { failed, invalid } from '../../errors/index.js';
import { run } from '../../exec/index.js';
import { distroFromOsRelease } from '../distro.js';
import { quoteShell } from '../shell.js';
import type { CommandResult, Distro, Target, TargetOutcome, TargetRunOptions } from './target.js';
import { SYSTEM_PATH } from '../../distro/index.js';
import { tempDirSync } from '../../scope/temp.js';

export interface SshHost {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number;
}

export interface SshTargetOptions {
  /** A private key (ssh -i); default: ssh's own (agent, ~/.ssh/id_*). */
  readonly identity?: string;
  /** known_hosts to check the host key against; default: ssh's (~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts). */
  readonly knownHosts?: string;
  readonly connectTimeoutSeconds?: number;
}

const UNKNOWN: Distro = { id: 'unknown', like: [], family: undefined };

/** The ssh options kiln always uses (pure, for tests). */
export function sshOptions(h: SshHost, o: SshTargetOptions, controlPath: string): string[] {
  return [
    '-p', String(h.port),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UpdateHostKeys=no',
    '-o', `ConnectTimeout=${o.connectTimeoutSeconds ?? 15}`,
    '-o', 'ServerAliveInterval=15',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${controlPath}`,
    '-o', 'ControlPersist=60',
    ...(o.knownHosts ? ['-o', `UserKnownHostsFile=${o.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null'] : []),
    ...(o.identity ? ['-i', o.identity, '-o', 'IdentitiesOnly=yes'] : []),
  ];
}

/** The remote command line: `[sudo -n] env K=V… argv…`, each word quoted for the remote shell. */
export function remoteCommand(argv: readonly string[], env: Readonly<Record<string, string>>, sudo: boolean): string {
  const assignments = Object.entries(env).map(([k, v]) => quoteShell(`${k}=${v}`));
  return [...(sudo ? ['sudo', '-n'] : []), 'env', ...assignments, ...argv.map(quoteShell)].join(' ');
}

/** Names what went wrong when ssh itself (exit 255) failed to reach or enter the host. */
export function sshFailure(where: string, stderr: string): Error {
  const s = stderr.trim();
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .*host key is known/i.test(s)) {
    const changed = /CHANGED/.test(s);
    return invalid(`${where}: the host key is ${changed ? 'not the one in known_hosts (it changed)' : 'unknown'}; kiln checks host keys strictly`, changed ? 'if the host was rebuilt, remove its old key with ssh-keygen -R' : 'add the key to known_hosts (ssh-keyscan, verified out of band) or pass --known-hosts FILE');
  }
  if (/Permission denied/i.test(s)) return invalid(`${where}: key authentication refused (${s.split('\n').pop()})`, 'pass the key with --ssh-key, or load it into ssh-agent');
  if (/Connection refused|No route to host|Connection timed out|timed out|Network is unreachable|Could not resolve hostname/i.test(s)) {
    return failed(`${where} is unreachable: ${s.split('\n').pop()}`);
  }
  return failed(`${where}: ssh failed: ${s.split('\n').pop() ?? 'exit 255'}`);
}

export class SshTarget implements Target {
  readonly description: string;
  private readonly dest: string;
  private readonly base: string[];
  /** Holds the ControlMaster socket of the target's one connection. */
  private readonly controlDir: { readonly path: string; remove(): void };
  private sudo = false;

  private constructor(
    private readonly h: SshHost,
    o: SshTargetOptions,
  ) {
    this.dest = `${h.user ? `${h.user}@` : ''}${h.host}`;
    this.description = `host ${this.dest}${h.port === 22 ? '' : `:${h.port}`}`;
    this.controlDir = tempDirSync('kiln-ssh-');
    this.base = sshOptions(h, o, path.join(this.controlDir.path, 'control'));
  }

  /** Connects once (proving reachability, the host key and the key login) and finds out whether sudo is needed. */
  static async open(h: SshHost, o: SshTargetOptions): Promise<SshTarget> {
    if (o.identity !== undefined && !fs.existsSync(o.identity)) throw invalid(`--ssh-key ${o.identity}: no such file`);
    if (o.knownHosts !== undefined && !fs.existsSync(o.knownHosts)) throw invalid(`--known-hosts ${o.knownHosts}: no such file`);
    const t = new SshTarget(h, o);
    try {
      const who = await t.raw('id -u');
      if (who.exitCode === 255) throw sshFailure(t.description, who.stderr);
      if (who.exitCode !== 0) throw failed(`${t.description}: \`id -u\` exited ${who.exitCode}: ${who.stderr.trim()}`);
      if (who.stdout.trim() !== '0') {
        const s = await t.raw('sudo -n true');
        if (s.exitCode !== 0) throw invalid(`${t.description}: the login user is not root and may not run sudo without a password (${s.stderr.trim().split('\n').pop() ?? `exit ${s.exitCode}`})`, 'log in as root, or allow this user passwordless sudo');
        t.sudo = true;
      }
      return t;
    } catch (e) {
      await t.close('discard');
      throw e;
    }
  }

  /** One remote command line, as given. */
  private raw(command: string, input?: string | Buffer): Promise<CommandResult> {
    return run('ssh', [...this.base, this.dest, '--', command], {
      allowFailure: true,
      label: `ssh ${this.description}`,
      ...(input === undefined ? {} : { input }),
    }).then((r) => ({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }));
  }

  private async checked(command: string, what: string, input?: string | Buffer): Promise<CommandResult> {
    const r = await this.raw(command, input);
    if (r.exitCode === 255) throw sshFailure(this.description, r.stderr);
    if (r.exitCode !== 0) throw failed(`${this.description}: ${what} exited ${r.exitCode}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
    return r;
  }

  async distro(): Promise<Distro> {
    const r = await this.raw('cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release');
    if (r.exitCode === 255) throw sshFailure(this.description, r.stderr);
    return (r.exitCode === 0 ? distroFromOsRelease(r.stdout) : undefined) ?? UNKNOWN;
  }

  async run(argv: readonly string[], opts: TargetRunOptions = {}): Promise<CommandResult> {
    const env = { PATH: SYSTEM_PATH, HOME: '/root', LANG: 'C.UTF-8', ...opts.env };
    const r = await this.raw(remoteCommand(argv, env, this.sudo), opts.input);
    // 255 is also a command's own exit code: only ssh's own words make it a transport failure.
    if (r.exitCode === 255 && /^ssh: |^Connection to .* closed|Host key verification failed|^kex_exchange/m.test(r.stderr)) throw sshFailure(this.description, r.stderr);
    return r;
  }

  async writeFile(p: string, contents: string | Uint8Array, mode: number): Promise<void> {
    const octal = mode.toString(8);
    const script = `set -e; d=$(dirname "$1"); mkdir -p "$d"; t=$(mktemp "$d/.kiln-XXXXXX"); cat > "$t"; chmod ${octal} "$t"; mv -f "$t" "$1"`;
    await this.checked(remoteCommand(['sh', '-c', script, 'sh', p], {}, this.sudo), `writing ${p}`, Buffer.from(contents));
  }

  async removeFile(p: string): Promise<void> {
    await this.checked(remoteCommand(['rm', '-f', p], {}, this.sudo), `removing ${p}`);
  }

  async exists(p: string): Promise<boolean> {
    const r = await this.raw(remoteCommand(['test', '-e', p], {}, this.sudo));
    if (r.exitCode === 255) throw sshFailure(this.description, r.stderr);
    return r.exitCode === 0;
  }

  async copyIn(hostPath: string, p: string, mode: number): Promise<void> {
    await this.writeFile(p, fs.readFileSync(hostPath), mode);
  }

  /** A live host changes as the validators run: nothing to commit or discard; the connection is closed. */
  async close(_outcome: TargetOutcome): Promise<void> {
    await run('ssh', [...this.base, '-O', 'exit', this.dest], { allowFailure: true, cancellable: false, label: 'close the ssh connection' });
    this.controlDir.remove();
  }
}
