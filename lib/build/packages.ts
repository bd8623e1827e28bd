/** Package installs inside the tree: one batched package-manager call per phase and action. */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec/index.js';
import { installCommand, removeCommand, updateCommand, type CommandSpec, type PackageTool } from '../distro/packages.js';
import type { Logger } from '../log/index.js';
import { batchPackages, readPackageInstalls, type PackageEntry, type PackagePhase, type PhasePackages } from '../packages/installs.js';
import { mapNames, resolvePkgMap, resolveSvcMaps, type NameMap } from '../packages/name-maps.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { chrootEnv } from '../hooks/run.js';
import { ensureHostResolvConf } from '../chroot/index.js';
import { bindMount } from '../mount/index.js';
import { Scope } from '../scope/index.js';
import { existsInTree, hostPath } from '../rootfs/paths.js';
import { invalid } from '../errors/index.js';

/**
 * Every flavour's package-installs entries, each name mapped through that flavour's own pkg-map for the
 * build's DISTRO_NAME / DIB_RELEASE (env is the build environment after environment.d).
 */
export function plannedPackages(plan: BuildPlan, arch: string, env: Readonly<Record<string, string>>): Record<PackagePhase, PhasePackages> {
  const maps = pkgMaps(plan, env);
  const entries = plan.flavours.flatMap((f) => (f.files.packageInstalls ? readPackageInstalls(f.files.packageInstalls, f.name) : []));
  const mapped = entries.flatMap((e): PackageEntry[] => mapNames([e.name], maps.get(e.flavour)).map((name) => ({ ...e, name })));
  return batchPackages(mapped, arch, env);
}

/** Each flavour's pkg-map resolved for the build's distribution and release. */
export function pkgMaps(plan: BuildPlan, env: Readonly<Record<string, string>>): Map<string, NameMap> {
  const out = new Map<string, NameMap>();
  for (const f of plan.flavours) {
    if (f.files.pkgMap) out.set(f.name, resolvePkgMap(fs.readFileSync(f.files.pkgMap, 'utf8'), f.files.pkgMap, f.name, env.DISTRO_NAME ?? '', env.DIB_RELEASE ?? ''));
  }
  return out;
}

/** The flavours' svc-map files merged for the build's distribution. */
export function svcMap(plan: BuildPlan, distro: string): NameMap {
  const files = plan.flavours.flatMap((f) => (f.files.svcMap ? [{ text: fs.readFileSync(f.files.svcMap, 'utf8'), file: f.files.svcMap, flavour: f.name }] : []));
  return resolveSvcMaps(files, distro);
}

/**
 * kiln's package steps in a tree. Downloaded packages are kept in a cache shared by every build of the
 * release and architecture (archives): it is bound into the tree only around kiln's own package-manager
 * calls, which hold archives.lock (flock) meanwhile, so concurrent builds never meet on apt's own lock
 * there, and a hook's apt-get uses the tree's private cache.
 */
export class TreePackages {
  private updated = false;
  /** kiln builds apt-family trees. */
  private readonly tool: PackageTool = 'apt';

  constructor(
    private readonly root: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly log: Logger,
    private readonly offline: boolean,
    private readonly archives?: string,
  ) {}

  /** Whether the tree has the package manager at all (a busybox tree does not). */
  available(): boolean {
    return existsInTree(this.root, '/usr/bin/apt-get');
  }

  /** Installs packages (a no-op for none); `label` names the phase (or "-p") in the log. */
  async install(label: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.log.step(`${label} packages: install ${names.join(' ')}`, async () => {
      await this.refresh();
      const install = installCommand(this.tool, names, 'minimal');
      if (this.offline && this.tool === 'apt') {
        // Offline: apt may use only what the archive cache holds; anything it would download is named first.
        const missing = parsePrintUris(await this.inTree({ ...install, argv: withAptOption(install.argv, '--print-uris', '-qq') }, `${label} package install (what it needs)`, true));
        if (missing.length > 0) {
          throw invalid(`--offline: ${label} packages: not in the local package cache: ${missing.join(', ')}`, 'build once without --offline to download them (they are kept for later builds)');
        }
        await this.inTree({ ...install, argv: withAptOption(install.argv, '--no-download') }, `${label} package install`);
        return;
      }
      await this.inTree(install, `${label} package install`);
    });
  }

  /** Removes packages (a no-op for none). */
  async remove(label: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.log.step(`${label} packages: remove ${names.join(' ')}`, () => this.inTree(removeCommand(this.tool, names), `${label} package removal`));
  }

  /** Refreshes package lists once per build, unless offline or they are fresh (< 6 h old). */
  private async refresh(): Promise<void> {
    const update = updateCommand(this.tool);
    if (this.updated || this.offline || !update) return;
    this.updated = true;
    if (listsAgeHours(this.root) < 6) return;
    await this.inTree(update, 'package list update');
  }

  /** Runs a package manager command in the tree (with the shared archive cache bound in); `quiet`: its output is returned, not logged. */
  private async inTree({ argv, env }: CommandSpec, label: string, quiet = false): Promise<string> {
    const opts = { env: { ...chrootEnv(this.env), ...env }, label, ...(quiet ? {} : { onLine: (l: string) => this.log.output(l) }) };
    const inside = hostPath(this.root, 'var/cache/apt/archives');
    const scope = new Scope();
    try {
      ensureHostResolvConf(scope, this.root);
      if (!this.archives || !fs.existsSync(inside)) return (await run('chroot', [this.root, ...argv], opts)).stdout;
      fs.mkdirSync(path.join(this.archives, 'partial'), { recursive: true });
      await bindMount(scope, this.archives, inside);
      // Under the lock: what an interrupted build left half-downloaded goes, then apt runs.
      return (await run('flock', ['--wait', '1800', `${this.archives}.lock`, 'sh', '-c', 'find "$1/partial" -type f -delete; shift; exec "$@"', 'kiln-apt', this.archives, 'chroot', this.root, ...argv], opts)).stdout;
    } finally {
      await scope.close();
    }
  }
}

/** apt-get argv with options put before its command word (install, purge). */
function withAptOption(argv: readonly string[], ...options: string[]): string[] {
  const at = argv.findIndex((a) => a === 'install' || a === 'purge');
  if (at < 0) throw new Error(`no apt-get command word in ${argv.join(' ')}`);
  return [...argv.slice(0, at), ...options, ...argv.slice(at)];
}

/**
 * The packages `apt-get --print-uris` would download ("'URI' FILE SIZE HASH" per line), as
 * "name (file)": what an offline build lacks.
 */
export function parsePrintUris(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const m = /^'[^']+'\s+(\S+\.deb)\s/.exec(line.trim());
    return m ? [`${(m[1] as string).split('_')[0]} (${m[1] as string})`] : [];
  });
}

function listsAgeHours(root: string): number {
  const dir = hostPath(root, 'var/lib/apt/lists');
  try {
    const newest = Math.max(...fs.readdirSync(dir).filter((f) => f.endsWith('Release')).map((f) => fs.statSync(path.join(dir, f)).mtimeMs));
    return Number.isFinite(newest) ? (Date.now() - newest) / 3_600_000 : Infinity;
  } catch {
    return Infinity;
  }
}
