/**
 * The build pipeline, as a list of steps: base tree → root.d → extra-data.d → chroot phases (with
 * package installs) → post-root.d → disk sizing → finalise → cleanup.d → outputs. Every resource is
 * scoped; a failure or an interrupt unwinds them all and no partial output is left.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/config.js';
import { enterChroot, HOOKS_INSIDE } from '../chroot/index.js';
import { unmountAllUnder } from '../mount/index.js';
import { installSignalHandlers } from '../exec/cancel.js';
import { setTracer } from '../exec/index.js';
import { invalid } from '../errors/index.js';
import { findPhase } from '../flavours/phases.js';
import { runPhase, sourcedEnvironment, type HookContext } from '../hooks/run.js';
import { Logger } from '../log/index.js';
import { watchOuter } from '../namespace/index.js';
import { diskOutputs, imageOutputs, type BuildPlan } from '../plan/build-plan.js';
import type { PlannedPhase } from '../flavours/types.js';
import { withScope, type Scope } from '../scope/index.js';
import { hookEnv, type BuildDirs } from './env.js';
import { plannedPackages, TreePackages } from './packages.js';
import { phaseSteps, type PackagePhase } from '../packages/installs.js';
import { makeBaseTree, baseMirror, resolveBuildRelease } from './base-step.js';
import { installFirstBoot } from './first-boot.js';
import { stageHooks, stageNameMaps } from './stage.js';
import { createWorkDir, sweepStale, workDirFull } from './workdir.js';
import { assembleDisk } from '../disk/index.js';
import { grubTimeout } from '../disk/bootconfig.js';
import { manifestBaseOf, placeChecksumFiles, writeOutputs } from '../output/index.js';
import { writeAtomically } from '../output/atomic.js';
import { OutputCache, outputKey } from '../cache/outputs.js';
import { pullOutputEntry, pushOutputEntry } from '../cache/remote.js';
import { kilnCodeDigest } from '../cache/inputs.js';
import { recordDibManifests, saveDibManifests } from '../output/dib-manifests.js';
import { manifestPaths } from '../output/manifest.js';
import { emptyImageDev } from '../rootfs/dev.js';
import { clampTree, parseSourceDateEpoch, sourceDateEpoch } from '../output/epoch.js';
import type { Format } from '../output/formats.js';
import { lastValue } from '../hooks/run.js';
import { checkDiskOutputs, chooseSize, readDiskDecl } from './disk-step.js';
import { afterStep, afterStepBeside, buildStepInputs, extraDataProbe, logStatuses, lookUpRemote, pullStep, resumeIndex, stepStatuses, type StepStatus } from './cache-step.js';
import { RemoteCache } from '../cache/remote.js';
import { StepCache } from '../cache/store.js';
import { bootBuilt, copyToDevice } from './boot-step.js';
import { preflight } from './preflight.js';
import { applyFlavourSpecs, loadFlavourSpecs, type FlavourSpec } from './spec-step.js';
import { lockOutput } from './lock.js';
import { withMemo } from './memo.js';
import { writeRamdisk, type RamdiskResult } from './ramdisk-step.js';
import { existsInTree, hostPath } from '../rootfs/paths.js';
import { removeBuildAptConf } from '../rootfs/base.js';

export async function runBuild(config: BuildConfig, plan: BuildPlan): Promise<void> {
  const s = config.settings;
  if (process.getuid?.() !== 0) throw invalid('building needs root: run as root, or through sudo as a member of the kiln group (see sudoers.d/kiln)');
  const outDir = path.dirname(path.resolve(s.output));
  if (!fs.existsSync(outDir)) throw invalid(`-o ${s.output}: directory ${outDir} does not exist`);
  try {
    fs.accessSync(outDir, fs.constants.W_OK);
  } catch (e) {
    throw invalid(`-o ${s.output}: directory ${outDir} is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  await preflight(plan, s.release, s.arch);
  parseSourceDateEpoch(config.env.SOURCE_DATE_EPOCH);
  const specs = loadFlavourSpecs(plan);
  installSignalHandlers();
  watchOuter();
  const unlock = lockOutput(s.output);
  const log = new Logger({ json: s.json, logfile: s.logfile });
  if (s.trace) setTracer((argv) => log.info(`+ ${argv.join(' ')}`));
  const t0 = Date.now();
  const buildId = crypto.randomUUID();
  log.event({ event: 'build-start', id: buildId, name: s.output, flavours: plan.flavours.map((f) => f.name) });
  log.info(`kiln: building ${plan.outputs.map((o) => o.path).join(', ')} from ${plan.flavours.map((f) => f.name).join(' ')}`);
  let remote: RemoteCache | undefined;
  try {
    remote = await openRemote(config, log);
    await sweepStale([outDir, path.join(s.imageCache, 'kiln', 'base')], (m) => log.info(m));
    const resolved = await resolveBuildRelease(config, plan, log);
    const result = await withScope((scope) => buildIn({ scope, config: resolved, plan, log, specs, remote }));
    await remote?.drain();
    log.printSlowest();
    if (s.boot) await bootBuilt(result, s.output, log, s.arch);
    const seconds = (Date.now() - t0) / 1000;
    log.info(`kiln: done in ${seconds.toFixed(1)} s`);
    log.event({ event: 'build-end', status: 'ok', seconds, exitCode: 0 });
  } catch (e) {
    const seconds = (Date.now() - t0) / 1000;
    const kind = (e as { kind?: string }).kind;
    const status = kind === 'interrupted' ? 'interrupted' : 'failed';
    // What a failed build stored is good and still worth sharing; an interrupted one does not wait for the network
    // (an upload cut off leaves no manifest, so no entry, in the registry).
    if (status !== 'interrupted') await remote?.drain();
    log.event({ event: 'build-end', status, seconds, exitCode: status === 'interrupted' ? 130 : kind === 'invalid' ? 2 : 1 });
    throw e;
  } finally {
    unlock();
    log.close();
  }
}

export interface BuildResult {
  readonly layout: 'mbr' | 'efi';
  readonly outputs: readonly { format: Format; path: string }[];
  readonly ramdisk?: RamdiskResult;
}

/** One build: what every stage of the pipeline reads. */
interface BuildContext {
  readonly scope: Scope;
  readonly config: BuildConfig;
  readonly plan: BuildPlan;
  readonly log: Logger;
  readonly specs: readonly FlavourSpec[];
  readonly remote: RemoteCache | undefined;
}

/** The cache registry, when one is set (and the step cache is on): its credentials checked now, before the build. */
async function openRemote(config: BuildConfig, log: Logger): Promise<RemoteCache | undefined> {
  const s = config.settings;
  if (!s.cacheRegistry) return undefined;
  if (!s.cache) {
    log.info('kiln: --cache-registry is ignored with --no-cache');
    return undefined;
  }
  return RemoteCache.open(s.cacheRegistry, s.cacheRegistryMode, { insecure: s.insecureRegistry, env: process.env }, log);
}

async function buildIn(b: BuildContext): Promise<BuildResult> {
  const work = await createWorkDir(b.scope, b.config.settings.tmpfs);
  // Work that goes on beside the build (the last step's store): settled before the work directory goes, each
  // resolving to undefined or the error it failed with.
  const beside: Promise<unknown>[] = [];
  try {
    const result = await buildInWork(b, work, beside);
    const failure = (await Promise.all(beside)).find((x) => x !== undefined);
    if (failure !== undefined) throw failure;
    return result;
  } catch (e) {
    await Promise.all(beside);
    throw (await workDirFull(e, work)) ?? e;
  }
}

async function buildInWork(b: BuildContext, work: string, beside: Promise<unknown>[]): Promise<BuildResult> {
  const { scope, config, plan, log, specs, remote } = b;
  const s = config.settings;
  const dirs: BuildDirs = { work, root: path.join(work, 'mnt'), hooks: path.join(work, 'hooks'), image: path.join(work, 'image') };
  for (const d of [dirs.root, dirs.image]) fs.mkdirSync(d, { recursive: true });
  const { envFiles } = stageHooks(plan, dirs.hooks);
  const mirror = baseMirror(config, plan);
  const env = hookEnv(config, plan, dirs, mirror?.mirror);
  const disk = readDiskDecl(plan, config);
  checkDiskOutputs(plan, disk);
  env.DIB_BLOCK_DEVICE = disk.layout;
  const ctx: HookContext = { root: dirs.root, hooksDir: dirs.hooks, envFiles, env, log };
  const buildEnv = await sourcedEnvironment(ctx, plan.environment);
  stageNameMaps(plan, dirs.hooks, buildEnv);
  const grubWait = grubTimeout(buildEnv.DIB_GRUB_TIMEOUT); // refused now, before any step, when it is not a number
  const phase = (name: string): PlannedPhase => {
    const p = plan.phases.find((x) => x.name === name);
    if (!p || !findPhase(name)) throw new Error(`no phase ${name}`);
    return p;
  };
  const packages = plannedPackages(plan, s.arch, buildEnv);
  const cache = s.cache ? StepCache.under(s.imageCache) : undefined;
  const extraData = await extraDataProbe(ctx, plan, work, cache !== undefined);
  const stepInputs = buildStepInputs(config, plan, buildEnv, work, packages, extraData);
  let statuses = stepStatuses(cache, stepInputs, s.output, cache && (await lookUpRemote(cache, remote, stepInputs)));
  logStatuses(log, statuses);
  let resume = resumeIndex(statuses);
  // A rebuild with nothing changed: the outputs of the build that made them, from the output cache — or, for a
  // new builder, from the cache registry (before the step's tree, which the outputs make unnecessary).
  const reusable = cache && outputsReusable(plan, statuses, s, specs, phase('cleanup.d'));
  if (reusable && resume >= 0 && statuses.every((x) => ['hit', 'empty', 'covered'].includes(x.state))) {
    const last = statuses[resume] as StepStatus;
    const values = (last.from === 'registry' ? await remote?.stepValues(last.key) : cache.get(last.key)?.values) ?? {};
    const outputs = OutputCache.under(s.imageCache);
    const inputs = outputInputs(s, statuses, values, buildEnv, disk.layout);
    const key = outputKey(inputs);
    let reused = await reuseOutputs(scope, outputs, inputs, plan, s.checksum, log);
    // Pulled: every file's digests were checked on the way in, so the entry is used without reading them again.
    if (!reused && remote && (await pullOutputEntry(remote, outputs, key, (e) => log.event(e)))) reused = await reuseOutputs(scope, outputs, inputs, plan, s.checksum, log, false);
    else if (reused && remote) await pushOutputEntry(remote, outputs, key, { output: s.output });
    if (reused) {
      giveToCaller(reused);
      return { layout: disk.layout, outputs: imageOutputs(plan) };
    }
  }
  // A step found only in the cache registry: pulled into the local cache first; if that fails, the local cache alone decides.
  const pullAt = statuses[resume];
  if (cache && remote && pullAt?.from === 'registry' && !(await pullStep(cache, remote, pullAt, log))) {
    log.info(`  ${pullAt.step} could not be pulled from the cache registry: going by the local step cache alone`);
    statuses = stepStatuses(cache, stepInputs, s.output);
    logStatuses(log, statuses);
    resume = resumeIndex(statuses);
  }
  const status = (name: string) => statuses.find((x) => x.step === name) as StepStatus;
  let restored: Record<string, string> = {};
  if (resume >= 0 && cache) {
    const at = statuses[resume] as StepStatus;
    const ok = await log.step(`restore ${at.step} from the step cache (${at.key.slice(0, 12)})`, () => cache.restore(at.key, dirs.root));
    if (ok) restored = { ...cache.get(at.key)?.values };
    else {
      log.info(`  the entry ${at.key.slice(0, 12)} was pruned meanwhile: building every step`);
      fs.rmSync(dirs.root, { recursive: true, force: true });
      fs.mkdirSync(dirs.root);
      resume = -1;
    }
  }
  const afterCtx = (t0: number, values?: Record<string, string>) => ({ root: dirs.root, output: s.output, flavours: plan.flavours.map((f) => f.name), limit: s.cacheSize, keep: statuses.map((x) => x.key), log, seconds: (Date.now() - t0) / 1000, remote, ...(values ? { values } : {}) });
  const after = async (name: string, t0: number, values?: Record<string, string>) => afterStep(cache, status(name), afterCtx(t0, values));

  let t0 = Date.now();
  if (resume < 0) {
    await makeBaseTree(config, plan, dirs.root, mirror, log, remote);
    await runPhase(ctx, phase('root.d'));
    if (!existsInTree(dirs.root, '/bin') && !existsInTree(dirs.root, '/usr/bin')) {
      throw invalid('root.d left an empty tree: no operating-system flavour created one');
    }
  }
  await after('root', t0);
  // Tools that honour SOURCE_DATE_EPOCH (mkinitramfs clamps and sorts, shadow dates password changes, Python
  // compiles hash-based .pyc) make the same files in every build when hooks and package scripts see one: the
  // caller's, else the base tree's own date (a function of the cached root step, so no key needs it).
  if (parseSourceDateEpoch(buildEnv.SOURCE_DATE_EPOCH) === undefined) {
    const base = sourceDateEpoch({}, dirs.root);
    env.SOURCE_DATE_EPOCH = String(base.seconds);
    log.info(`kiln: hooks see SOURCE_DATE_EPOCH=${base.seconds} (${base.from})`);
  }

  // The chroot phases, each with its packages (installed and removed where diskimage-builder's package-installs
  // hooks run among its hooks: install near its start, removal near its end, lib/packages/installs.ts), -p after
  // install.d; the image.yaml specs after post-install.d.
  const chrootPhases = async (names: readonly PackagePhase[], withSpecs: boolean) => {
    const work = (names.includes('install.d') && s.packages.length > 0) || (withSpecs && specs.length > 0) || names.some((n) => phase(n).hooks.length + packages[n].install.length + packages[n].uninstall.length > 0);
    if (!work) return;
    await inChroot(dirs, log, async () => {
      const tree = new TreePackages(dirs.root, env, log, s.offline, path.join(s.imageCache, 'kiln', 'apt-archives', `${s.release}-${s.arch}`));
      for (const name of names) {
        const pk = packages[name];
        const extra = name === 'install.d' ? s.packages : [];
        if (pk.install.length + pk.uninstall.length > 0 && !tree.available()) {
          throw invalid(`packages requested for ${name} (${[...pk.install, ...pk.uninstall].join(', ')}) but the tree has no package manager`);
        }
        for (const step of phaseSteps(name, phase(name).hooks, pk)) {
          if (step.kind === 'hooks') await runPhase(ctx, { ...phase(name), hooks: step.hooks });
          else if (step.kind === 'install') await tree.install(name, step.packages);
          else await tree.remove(name, step.packages);
        }
        await tree.install('-p', extra);
      }
      if (withSpecs) await applyFlavourSpecs(specs, dirs.root, false, log);
    });
  };

  t0 = Date.now();
  if (resume < 1) {
    await runPhase(ctx, phase('extra-data.d'));
    // The install step ends after install.d's packages: an edited post-install.d hook restores the installed tree.
    await chrootPhases(['pre-install.d', 'install.d'], false);
  }
  await after('install', t0);

  t0 = Date.now();
  let sizeBytes = config.settings.imageSize;
  let blockDevice: string | undefined;
  if (resume < 2) {
    await chrootPhases(['post-install.d'], true);
    await runPhase(ctx, phase('post-root.d'));
    const values: Record<string, string> = {};
    if (phase('block-device-size.d').runs) {
      const printed = lastValue(await runPhase(ctx, phase('block-device-size.d')), 'IMAGE_SIZE', 'block-device-size.d');
      // The hook that printed it is kept with the value: a bad value restored from the cache names it too.
      if (printed !== undefined) Object.assign(values, { IMAGE_SIZE: printed.value, IMAGE_SIZE_FROM: printed.from });
      blockDevice = lastValue(await runPhase(ctx, phase('block-device.d')), 'IMAGE_BLOCK_DEVICE', 'block-device.d')?.value;
    }
    await runPhase(ctx, phase('pre-finalise.d'));
    if (phase('finalise.d').hooks.length > 0) {
      const finalise = () => runPhase(ctx, phase('finalise.d')).then(() => undefined);
      // With the step cache on, hooks may reuse work memoised by its inputs (the initramfs: lib/build/memo.ts).
      await inChroot(dirs, log, () => (cache ? withMemo(dirs.root, s.imageCache, env, log, finalise) : finalise()));
    }
    const firstBoot = phase('first-boot.d');
    if (firstBoot.hooks.length > 0) await log.step(`install first-boot.d (${firstBoot.hooks.length} hooks)`, async () => installFirstBoot(dirs.root, firstBoot, dirs.hooks));
    restored = values;
  }
  if (reusable && status('finalise').state === 'miss') {
    // Nothing after this step acts on the tree in place (what makes outputs reusable), so the finalised tree is
    // stored beside the disk and the outputs, with its times clamped first (as every output has them; the same
    // epoch as below, since nothing in between changes the packages' dates).
    clampTree(dirs.root, sourceDateEpoch(buildEnv, dirs.root).seconds, { imageRoot: true, fingerprint: false });
    beside.push((await afterStepBeside(cache, status('finalise'), afterCtx(t0, restored), path.join(work, 'store-snapshot'))).done);
  } else await after('finalise', t0, restored);
  if (phase('block-device-size.d').runs) sizeBytes = chooseSize(restored.IMAGE_SIZE, restored.IMAGE_SIZE_FROM, config);
  await runPhase(ctx, phase('cleanup.d'));
  if (hasManifests(plan)) recordDibManifests(dirs.root, manifestImageDir(buildEnv), buildEnv);
  fs.rmSync(hostPath(dirs.root, HOOKS_INSIDE, { keepLast: true }), { recursive: true, force: true });
  removeBuildAptConf(dirs.root);
  if (s.check && specs.length === 0) log.info('kiln: --check: no flavour of this build ships an image.yaml; nothing to check');
  if (s.check) await applyFlavourSpecs(specs, dirs.root, true, log);
  emptyImageDev(dirs.root);
  const epoch = sourceDateEpoch(buildEnv, dirs.root);
  const { clamped, fingerprint } = clampTree(dirs.root, epoch.seconds, { imageRoot: true });
  log.info(`kiln: SOURCE_DATE_EPOCH=${epoch.seconds} (${new Date(epoch.seconds * 1000).toISOString()}, ${epoch.from}): ${clamped} newer entries clamped to it; tree ${fingerprint.slice(0, 12)}`);
  if (plan.kind === 'ramdisk') {
    const r = await writeRamdisk(scope, config, plan, dirs.root, dirs.image, log, (f) => giveToCaller([f]), epoch.seconds);
    await copyManifestsOut(scope, plan, dirs.root, buildEnv, log);
    return { layout: disk.layout, outputs: [], ramdisk: r };
  }
  const formats = imageOutputs(plan);
  const needsDisk = diskOutputs(plan).length > 0;
  const assembled = needsDisk
    ? await log.step(`assemble the disk (${disk.layout})`, () =>
        assembleDisk(scope, {
          tree: dirs.root,
          workDir: dirs.image,
          layout: disk.layout,
          arch: s.arch,
          rootLabel: env.DIB_ROOT_LABEL,
          grubTimeout: grubWait,
          seed: fingerprint,
          epoch: epoch.seconds,
          ...(sizeBytes === undefined ? {} : { sizeBytes }),
        }),
      )
    : undefined;
  if (assembled) {
    log.info(`  disk: ${(assembled.sizeBytes / 2 ** 30).toFixed(2)} GiB ${assembled.layout}, root UUID ${assembled.rootUuid}; ${assembled.timings.map((t) => `${t.step} ${(t.ms / 1000).toFixed(1)} s`).join(', ')}`);
    if (blockDevice) await log.step(`write the disk to ${blockDevice} (IMAGE_BLOCK_DEVICE)`, () => copyToDevice(assembled.raw, blockDevice));
  }
  await log.step('write outputs', async () => {
    const report = await writeOutputs(scope, {
      tree: dirs.root,
      ...(assembled ? { disk: assembled } : {}),
      outputs: formats,
      uncompressed: s.uncompressed,
      checksum: s.checksum,
      epoch: epoch.seconds,
      seed: fingerprint,
      build: { flavours: plan.flavours.map((f) => f.name), arch: s.arch, ...(assembled ? { layout: assembled.layout } : {}) },
      onWritten: (r) => {
        giveToCaller([r.path, `${r.path}.md5`, `${r.path}.sha256`]);
        log.event({ event: 'output', path: r.path, format: r.format, bytes: r.bytes });
        log.info(`  ${r.path}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB (${r.seconds.toFixed(1)} s)`);
      },
    });
    giveToCaller([report.manifest, report.sbom]);
    if (report.manifest) log.info(`  manifest: ${report.manifest}; SBOM: ${report.sbom ?? '-'}`);
    if (reusable) {
      const files = [
        ...report.outputs.map((r) => ({ name: r.format, path: r.path, ...(r.checksums ? { sums: r.checksums } : {}) })),
        ...(report.manifest ? [{ name: 'manifest', path: report.manifest }] : []),
        ...(report.sbom ? [{ name: 'sbom', path: report.sbom }] : []),
      ];
      const key = outputKey(outputInputs(s, statuses, restored, buildEnv, disk.layout));
      const outputs = OutputCache.under(s.imageCache);
      const stored = await outputs.store(key, files);
      log.info(stored ? `  outputs kept in the output cache (${key.slice(0, 12)}) for a rebuild with nothing changed` : '  outputs not kept in the output cache: they are on another filesystem than the cache');
      if (stored && remote) await pushOutputEntry(remote, outputs, key, { output: s.output });
    }
  });
  await copyManifestsOut(scope, plan, dirs.root, buildEnv, log);
  return { layout: disk.layout, outputs: formats };
}

/**
 * Whether this build's outputs can come from (and go to) the output cache: a disk build with the step cache on,
 * every step cacheable, and nothing after the last step that acts on the tree or the host (cleanup.d hooks,
 * --check, the manifests copy-out).
 */
function outputsReusable(plan: BuildPlan, statuses: readonly StepStatus[], s: BuildConfig['settings'], specs: readonly FlavourSpec[], cleanup: PlannedPhase): boolean {
  return plan.kind === 'disk' && cleanup.hooks.length === 0 && !(s.check && specs.length > 0) && !hasManifests(plan) && statuses.every((x) => x.state !== 'uncacheable' && x.state !== 'off');
}

/** What a build's outputs are made from, besides the tree (which the last step's key stands for). */
function outputInputs(s: BuildConfig['settings'], statuses: readonly StepStatus[], values: Readonly<Record<string, string>>, env: Readonly<Record<string, string>>, layout: string): Record<string, string> {
  return {
    steps: (statuses[statuses.length - 1] as StepStatus).key,
    kiln: kilnCodeDigest(),
    formats: s.types.join(','),
    name: path.basename(path.resolve(s.output)),
    uncompressed: String(s.uncompressed),
    'image size': String(s.imageSize ?? ''),
    IMAGE_SIZE: values.IMAGE_SIZE ?? '',
    layout,
    'root label': env.DIB_ROOT_LABEL ?? '',
    'grub timeout': env.DIB_GRUB_TIMEOUT ?? '',
    SOURCE_DATE_EPOCH: env.SOURCE_DATE_EPOCH ?? '',
  };
}

/** Links a verified output-cache entry's files into place (each atomically); the paths written, or undefined on a miss. */
async function reuseOutputs(scope: Scope, outputs: OutputCache, inputs: Record<string, string>, plan: BuildPlan, checksum: boolean, log: Logger, verify = true): Promise<string[] | undefined> {
  const key = outputKey(inputs);
  const t0 = Date.now();
  const entry = verify ? await outputs.verified(key) : outputs.read(key);
  if (!entry) return undefined;
  const formats = imageOutputs(plan).map((o) => ({ ...o, path: path.resolve(o.path) }));
  const base = manifestBaseOf({ outputs: formats });
  const side = base ? manifestPaths(base) : undefined;
  const targets = [...formats.map((o) => ({ name: o.format as string, path: o.path })), ...(side ? [{ name: 'manifest', path: side.manifest }, { name: 'sbom', path: side.sbom }] : [])];
  if (!targets.every((t) => entry.files.some((f) => f.name === t.name))) return undefined;
  const written: string[] = [];
  for (const t of targets) {
    await writeAtomically(scope, t.path, async (tmp) => fs.linkSync(outputs.file(key, t.name), tmp));
    written.push(t.path);
    const f = entry.files.find((x) => x.name === t.name) as (typeof entry.files)[number];
    if (t.name === 'manifest' || t.name === 'sbom') continue;
    written.push(...(await placeChecksumFiles(scope, t.path, checksum ? { md5: f.md5, sha256: f.sha256 } : undefined)));
    log.event({ event: 'output', path: t.path, format: t.name, bytes: f.bytes, reused: true });
    log.info(`  ${t.path}: ${(f.bytes / 2 ** 20).toFixed(1)} MiB (reused)`);
  }
  log.info(`kiln: nothing changed since the build that made these outputs: reused from the output cache (${key.slice(0, 12)}, digests ${verify ? 'verified' : 'checked on download'}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return written;
}

const hasManifests = (plan: BuildPlan) => plan.flavours.some((f) => f.name === 'manifests');
const manifestImageDir = (env: Readonly<Record<string, string>>) => env.DIB_MANIFEST_IMAGE_DIR || '/etc/dib-manifests';

/** With the manifests flavour, the tree's manifest directory is copied beside the outputs (IMAGE_NAME.d/), as diskimage-builder does. */
async function copyManifestsOut(scope: Scope, plan: BuildPlan, tree: string, env: Readonly<Record<string, string>>, log: Logger): Promise<void> {
  if (!hasManifests(plan)) return;
  const imageDir = manifestImageDir(env);
  const saveDir = env.DIB_MANIFEST_SAVE_DIR || `${env.IMAGE_NAME}.d/`;
  const { dir, made } = await saveDibManifests(scope, tree, imageDir, saveDir);
  giveToCaller(made);
  log.info(`  manifests: ${dir}/, from ${imageDir} in the image`);
}

/** Under sudo, outputs belong to the user who ran it (SUDO_UID/SUDO_GID), not to root. */
function giveToCaller(files: readonly (string | undefined)[]): void {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0) return;
  for (const f of files) if (f && fs.existsSync(f)) fs.chownSync(f, uid, gid);
}

/** Runs fn with the tree entered (mounts, resolv.conf, policy-rc.d), and always leaves it. */
async function inChroot(dirs: BuildDirs, log: Logger, fn: () => Promise<void>): Promise<void> {
  const session = await enterChroot(dirs.root, { hooksDir: dirs.hooks });
  try {
    await fn();
  } finally {
    await log.step('leave the tree (unmount)', async () => {
      await session.close();
      // Whatever a hook mounted in the tree (a cache bound in by root.d) goes too, before finalise.d and
      // cleanup delete files there.
      for (const m of await unmountAllUnder(dirs.root)) log.info(`  unmounted ${path.relative(dirs.root, m) || '.'} (mounted by a hook)`);
    });
  }
}
