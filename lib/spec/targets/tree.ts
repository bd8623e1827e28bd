/**
 * A root directory as a target: commands run with `chroot ROOT …` (through lib/exec), files are
 * written on the host side with paths resolved inside the root. Test-only needs no mounts; for
 * reconcile, package tools need /proc, /dev and friends, which the injected `enter` function sets up.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../exec/index.js';
import { distroFromOsRelease } from '../distro.js';
import { hostPath } from '../../rootfs/paths.js';
import type { CommandResult, Distro, Target, TargetOutcome, TargetRunOptions } from './target.js';
import { SYSTEM_PATH } from '../../distro/index.js';

/** Something that undoes what `enter` did (a lib/scope Scope fits). */
export interface Entered {
  close(): Promise<void>;
}

/**
 * Prepares a tree for commands that change it (mounts /proc /sys /dev /dev/pts, puts resolv.conf and
 * policy-rc.d in place): lib/chroot's enterChroot, passed in by the pack command. Called once, lazily, before
 * the first command of a reconcile run; never in test-only mode.
 */
export type EnterTree = (root: string) => Promise<Entered>;

export interface TreeTargetOptions {
  /** Never enter the tree (test-only on the tree itself). A throwaway view of a tree is entered like reconcile. */
  readonly testOnly: boolean;
  readonly enter?: EnterTree;
  /** How messages name the tree, when `root` is a view of it (default: "tree ROOT"). */
  readonly description?: string;
}


const UNKNOWN: Distro = { id: 'unknown', like: [], family: undefined };

export class TreeTarget implements Target {
  readonly description: string;
  private entered: Entered | undefined;
  private entering: Promise<Entered> | undefined;

  constructor(
    readonly root: string,
    private readonly opts: TreeTargetOptions,
  ) {
    this.root = path.resolve(root);
    this.description = opts.description ?? `tree ${root}`;
  }

  private hostPath(inside: string): string {
    return hostPath(this.root, inside);
  }

  async distro(): Promise<Distro> {
    for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
      let text: string;
      try {
        text = fs.readFileSync(this.hostPath(p), 'utf8');
      } catch {
        continue;
      }
      return distroFromOsRelease(text) ?? UNKNOWN;
    }
    return UNKNOWN;
  }

  private async ensureEntered(): Promise<void> {
    if (this.opts.testOnly || !this.opts.enter || this.entered) return;
    this.entering ??= this.opts.enter(this.root);
    this.entered = await this.entering;
  }

  async run(argv: readonly string[], opts: TargetRunOptions = {}): Promise<CommandResult> {
    await this.ensureEntered();
    const env = { PATH: SYSTEM_PATH, HOME: '/root', LANG: 'C.UTF-8', ...opts.env };
    const r = await run('chroot', [this.root, ...argv], {
      env,
      allowFailure: true,
      label: `${this.description}: ${argv[0] ?? ''}`,
      ...(opts.input === undefined ? {} : { input: opts.input }),
    });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  async writeFile(inside: string, contents: string | Uint8Array, mode: number): Promise<void> {
    const dir = this.hostPath(path.posix.dirname(inside));
    fs.mkdirSync(dir, { recursive: true });
    const final = path.join(dir, path.posix.basename(inside));
    const tmp = path.join(dir, `.kiln-${randomBytes(6).toString('hex')}`);
    fs.writeFileSync(tmp, contents, { flag: 'wx', mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, final);
  }

  async removeFile(inside: string): Promise<void> {
    const dir = this.hostPath(path.posix.dirname(inside));
    fs.rmSync(path.join(dir, path.posix.basename(inside)), { force: true });
  }

  async exists(inside: string): Promise<boolean> {
    return fs.existsSync(this.hostPath(inside));
  }

  async copyIn(hostFile: string, inside: string, mode: number): Promise<void> {
    await this.writeFile(inside, fs.readFileSync(hostFile), mode);
  }

  /** A tree is changed in place: there is nothing to commit or discard, only the mounts to undo. */
  async close(_outcome: TargetOutcome): Promise<void> {
    const entered = this.entered;
    this.entered = undefined;
    await entered?.close();
  }
}
