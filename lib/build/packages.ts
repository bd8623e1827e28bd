/** Package installs inside the tree: one batched package-manager call per phase and action. */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec/index.js';
import { packageManager, type PackageManager } from '../distro/index.js';
import type { Logger } from '../log/index.js';
import { batchPackages, readPackageInstalls, type PackagePhase, type PhasePackages } from '../packages/installs.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { chrootEnv } from '../hooks/run.js';

export function plannedPackages(plan: BuildPlan, arch: string, env: Readonly<Record<string, string>>): Record<PackagePhase, PhasePackages> {
  const entries = plan.flavours.flatMap((f) => (f.files.packageInstalls ? readPackageInstalls(f.files.packageInstalls, f.name) : []));
  return batchPackages(entries, arch, env);
}

export class TreePackages {
  private updated = false;
  private readonly pm: PackageManager;

  constructor(
    private readonly root: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly log: Logger,
    private readonly offline: boolean,
  ) {
    this.pm = packageManager('apt');
  }

  /** Whether the tree has the package manager at all (a busybox tree does not). */
  available(): boolean {
    return fs.existsSync(path.join(this.root, 'usr/bin/apt-get'));
  }

  async apply(phase: string, pkgs: PhasePackages): Promise<void> {
    if (pkgs.install.length > 0) {
      await this.log.step(`${phase} packages: install ${pkgs.install.join(' ')}`, async () => {
        await this.refresh();
        await this.inTree(this.pm.install(pkgs.install), `${phase} package install`);
      });
    }
    if (pkgs.uninstall.length > 0) {
      await this.log.step(`${phase} packages: remove ${pkgs.uninstall.join(' ')}`, () => this.inTree(this.pm.remove(pkgs.uninstall), `${phase} package removal`));
    }
  }

  /** Refreshes package lists once per build, unless offline or they are fresh (< 6 h old). */
  private async refresh(): Promise<void> {
    if (this.updated || this.offline || !this.pm.update) return;
    this.updated = true;
    if (listsAgeHours(this.root) < 6) return;
    await this.inTree([...this.pm.update], 'package list update');
  }

  private async inTree(argv: readonly string[], label: string): Promise<void> {
    await run('chroot', [this.root, ...argv], {
      env: { ...chrootEnv(this.env), ...this.pm.env },
      label,
      onLine: (l) => this.log.output(l),
    });
  }
}

function listsAgeHours(root: string): number {
  const dir = path.join(root, 'var/lib/apt/lists');
  try {
    const newest = Math.max(...fs.readdirSync(dir).filter((f) => f.endsWith('Release')).map((f) => fs.statSync(path.join(dir, f)).mtimeMs));
    return Number.isFinite(newest) ? (Date.now() - newest) / 3_600_000 : Infinity;
  } catch {
    return Infinity;
  }
}
