/**
 * What a spec runs against. Validators only use this interface, so the same spec checks a root
 * tree (TreeTarget, via chroot), an image file (ImageTarget: work on a copy, replace the original
 * only on success) and a live host (SshTarget). Paths are paths inside the target.
 */
import type { DistroFamily } from '../../distro/packages.js';

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TargetRunOptions {
  /** Variables added to the target's base environment (PATH, HOME, LANG). */
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
}

export type { DistroFamily };

export interface Distro {
  /** `ID` of /etc/os-release (`debian`, `ubuntu`, `centos`, …). */
  readonly id: string;
  /** `ID_LIKE`, split. */
  readonly like: readonly string[];
  readonly family: DistroFamily | undefined;
}

/** How a run ends: keep the changes (commit) or throw them away (discard). */
export type TargetOutcome = 'commit' | 'discard';

export interface Target {
  /** For messages: `tree /srv/root`, `image disk.qcow2`, `host admin@node1`. */
  readonly description: string;
  distro(): Promise<Distro>;
  /** Runs argv inside the target (as root); a non-zero exit is a result, not an exception. */
  run(argv: readonly string[], opts?: TargetRunOptions): Promise<CommandResult>;
  writeFile(path: string, contents: string | Uint8Array, mode: number): Promise<void>;
  removeFile(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Copies a host file into the target. */
  copyIn(hostPath: string, path: string, mode: number): Promise<void>;
  /** Releases the target (unmounts, disconnects); an ImageTarget replaces the image only on commit. */
  close(outcome: TargetOutcome): Promise<void>;
}
