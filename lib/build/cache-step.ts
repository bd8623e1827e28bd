/**
 * The step cache in a build: which steps hit, which missed and why, where the build resumes, and the
 * stores after each step that ran. `kiln plan` shows the same outlook without building (planOutlook).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/config.js';
import { CACHE_STEPS, computeStepInputs, explainChange, kilnDigest, type CacheStepName, type ExtraDataProbe, type StepInputs } from '../cache/inputs.js';
import { StepCache, type EntryMeta } from '../cache/store.js';
import type { RemoteCache } from '../cache/remote.js';
import { sourcedEnvironment, type HookContext } from '../hooks/run.js';
import type { Logger } from '../log/index.js';
import { diskOutputs, type BuildPlan } from '../plan/build-plan.js';
import { baseKey } from '../rootfs/base.js';
import { baseMirror, baseSpec } from './base-step.js';
import { hookEnv, type BuildDirs } from './env.js';
import { plannedPackages } from './packages.js';
import { readDiskDecl } from './disk-step.js';
import type { PackagePhase, PhasePackages } from '../packages/installs.js';
import { planSteps, type PlanStep } from '../plan/steps.js';
import { probeExtraData } from './host-probe.js';
import { stageHooks, stageNameMaps } from './stage.js';
import { withTempDir } from '../scope/temp.js';
import { run } from '../exec/index.js';

export type StepState = 'hit' | 'miss' | 'empty' | 'covered' | 'uncacheable' | 'off';

export interface StepStatus {
  readonly step: CacheStepName;
  readonly title: string;
  readonly key: string;
  readonly state: StepState;
  /** For a miss: which inputs changed since the last good build of this output (or why there is none). */
  readonly reasons: readonly string[];
  readonly inputs: Readonly<Record<string, string>>;
  /** For a hit: the local step cache's entry, or the cache registry's (pulled when the build resumes there). */
  readonly from?: 'local' | 'registry';
}

/** Every step's inputs and key for this build (env: the build environment after environment.d). */
export function buildStepInputs(
  config: BuildConfig,
  plan: BuildPlan,
  env: Readonly<Record<string, string>>,
  workDir: string,
  packages = plannedPackages(plan, config.settings.arch, env),
  extraData?: ExtraDataProbe,
): StepInputs[] {
  const s = config.settings;
  const spec = baseSpec(config, plan, baseMirror(config, plan));
  return computeStepInputs({
    plan,
    env,
    workDir,
    baseKey: spec ? baseKey(spec) : undefined,
    packages,
    extraPackages: s.packages,
    arch: s.arch,
    release: s.release,
    kiln: kilnDigest(),
    ...(extraData ? { extraData } : {}),
  });
}

/**
 * With the cache on, extra-data.d runs apart from the tree first (lib/build/host-probe.ts) and what it produced
 * keys the install step; undefined when there is nothing to probe.
 */
export async function extraDataProbe(ctx: HookContext, plan: BuildPlan, work: string, cacheOn: boolean): Promise<ExtraDataProbe | undefined> {
  const phase = plan.phases.find((p) => p.name === 'extra-data.d');
  if (!cacheOn || !phase?.runs || phase.hooks.length === 0) return undefined;
  const t0 = Date.now();
  const probe = await probeExtraData(ctx, phase, path.join(work, 'extra-data-probe'));
  const took = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  if ('failed' in probe) ctx.log.info(`cache: extra-data.d could not run apart from the tree (${took}): ${probe.failed.split('\n')[0]}`);
  else ctx.log.info(`cache: extra-data.d run apart from the tree to key the install step: ${Object.keys(probe.outputs).length} product(s) (${took})`);
  return probe;
}

/** What the cache holds for each step (locally, or in the cache registry: `remote` keys), and why a step missed. */
export function stepStatuses(cache: StepCache | undefined, steps: readonly StepInputs[], output: string, remote: ReadonlySet<string> = new Set()): StepStatus[] {
  const out: StepStatus[] = steps.map((st) => {
    const def = CACHE_STEPS.find((d) => d.name === st.step);
    const base = { step: st.step, title: def?.title ?? st.step, key: st.key, inputs: st.inputs };
    if (!cache) return { ...base, state: 'off', reasons: ['--no-cache'] };
    if (st.uncacheable) return { ...base, state: 'uncacheable', reasons: [st.uncacheable] };
    if (st.empty) return { ...base, state: 'empty', reasons: ['nothing runs in this step'] };
    if (cache.get(st.key)) return { ...base, state: 'hit', reasons: [], from: 'local' };
    if (remote.has(st.key)) return { ...base, state: 'hit', reasons: [], from: 'registry' };
    return { ...base, state: 'miss', reasons: missReasons(cache, st, output) };
  });
  // A miss that follows an empty step (whose own line says nothing changed): say what changed there.
  for (const [i, st] of out.entries()) {
    const prev = out[i - 1];
    if (!cache || st.state !== 'miss' || !prev || prev.state !== 'empty') continue;
    const before = cache.lineage(prev.step, output);
    const why = before ? explainChange(before.inputs, prev.inputs) : [];
    if (why.length > 0) out[i] = { ...st, reasons: st.reasons.map((r) => (r.startsWith(`follows ${prev.step},`) ? `${r}: ${why.join('; ')}` : r)) };
  }
  // A later hit makes the steps before it unnecessary, whatever the cache holds for them.
  const last = resumeIndex(out);
  return out.map((s, i) => (i < last && s.state === 'miss' ? { ...s, state: 'covered', reasons: [`restored with ${out[last]?.step}`] } : s));
}

/** The index of the step whose entry the build restores (the latest hit before any uncacheable step), or -1. */
export function resumeIndex(statuses: readonly StepStatus[]): number {
  let last = -1;
  for (const [i, s] of statuses.entries()) {
    if (s.state === 'uncacheable') break;
    if (s.state === 'hit') last = i;
  }
  return last;
}

function missReasons(cache: StepCache, st: StepInputs, output: string): string[] {
  const before = cache.lineage(st.step, output);
  if (!before) return [`no earlier build of ${path.basename(output)} in the cache`];
  if (before.key === st.key) return ['the entry was pruned'];
  const why = explainChange(before.inputs, st.inputs);
  return why.length > 0 ? why : ['inputs changed'];
}

export function statusLine(s: StepStatus): string {
  const head = `cache ${s.step} (${s.title}): ${s.state}`;
  if (s.state === 'hit') return `${head}${s.from === 'registry' ? ' (registry)' : ''} ${s.key.slice(0, 12)}`;
  if (s.state === 'miss') return `${head}: ${s.reasons.join('; ')}`;
  return s.state === 'off' ? head : `${head}: ${s.reasons.join('; ')}`;
}

export function logStatuses(log: Logger, statuses: readonly StepStatus[]): void {
  for (const s of statuses) {
    log.info(statusLine(s));
    log.event({ event: 'cache', step: s.step, state: s.state, key: s.key, reasons: [...s.reasons], ...(s.from ? { from: s.from } : {}) });
  }
}

/** What `kiln plan` shows beyond the plan: the packages per phase, the steps in order, the step cache's outlook. */
export interface PlanOutlook {
  /** Undefined when the environment could not be sourced (then `cache` says why). */
  readonly packages?: Readonly<Record<PackagePhase, PhasePackages>>;
  readonly steps?: readonly PlanStep[];
  readonly cache: StepStatus[] | string;
}

/**
 * The build's packages, steps and cache outlook without building: hooks staged and environment.d sourced in a
 * temporary directory, as the build will, and each step looked up (reads the cache, writes nothing). Bad package-installs input (a `when` on an unset variable, …) is an error, as in a build.
 */
export async function planOutlook(config: BuildConfig, plan: BuildPlan, log: Logger): Promise<PlanOutlook> {
  return withTempDir('kiln-plan', async (work) => {
    const dirs: BuildDirs = { work, root: path.join(work, 'mnt'), hooks: path.join(work, 'hooks'), image: path.join(work, 'image') };
    const { envFiles } = stageHooks(plan, dirs.hooks);
    const mirror = baseMirror(config, plan);
    const env = hookEnv(config, plan, dirs, mirror?.mirror);
    const ctx = { root: dirs.root, hooksDir: dirs.hooks, envFiles, env, log };
    let buildEnv: Record<string, string>;
    try {
      buildEnv = await sourcedEnvironment(ctx, plan.environment);
    } catch (e) {
      return { cache: (e as Error).message };
    }
    stageNameMaps(plan, dirs.hooks, buildEnv);
    const s = config.settings;
    const packages = plannedPackages(plan, s.arch, buildEnv);
    const base = baseSpec(config, plan, mirror);
    const decl = readDiskDecl(plan, config);
    const writesDisk = diskOutputs(plan).length > 0;
    const steps = planSteps(plan, {
      packages,
      extraPackages: s.packages,
      ...(base ? { base: { flavour: base.flavour, release: base.release, arch: base.arch } } : {}),
      ...(writesDisk ? { disk: { layout: decl.layout, bootloader: decl.bootloader, from: decl.from } } : {}),
    });
    try {
      const cache = config.settings.cache ? StepCache.under(config.settings.imageCache) : undefined;
      const extraData = await extraDataProbe(ctx, plan, work, cache !== undefined);
      return { packages, steps, cache: stepStatuses(cache, buildStepInputs(config, plan, buildEnv, work, packages, extraData), config.settings.output) };
    } catch (e) {
      return { packages, steps, cache: (e as Error).message };
    }
  });
}

/** Stores the tree after a step that ran (a miss), records the lineage, and keeps the cache in its limit. */
export async function afterStep(
  cache: StepCache | undefined,
  status: StepStatus,
  ctx: { root: string; output: string; flavours: readonly string[]; values?: Record<string, string>; limit: number; keep: readonly string[]; log: Logger; seconds: number; remote?: RemoteCache | undefined },
): Promise<void> {
  if (!cache || status.state === 'off' || status.state === 'uncacheable') return;
  if (status.state === 'miss') {
    const t0 = Date.now();
    const bytes = await ctx.log.step(`store ${status.step} in the step cache`, () =>
      cache.store(ctx.root, { key: status.key, step: status.step, inputs: status.inputs, values: ctx.values ?? {}, output: path.resolve(ctx.output), flavours: ctx.flavours, seconds: ctx.seconds }),
    );
    const seconds = (Date.now() - t0) / 1000;
    if (bytes === undefined) ctx.log.info(`  ${status.key.slice(0, 12)}: stored by another build meanwhile`);
    else ctx.log.info(`  ${status.key.slice(0, 12)}: ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    ctx.log.event({ event: 'cache-store', step: status.step, key: status.key, bytes: bytes ?? 0, seconds });
    if (bytes !== undefined && ctx.remote) pushStep(cache, ctx.remote, status.key);
    for (const e of cache.prune({ maxBytes: ctx.limit, keep: ctx.keep })) ctx.log.info(`  pruned ${e.key.slice(0, 12)} (${e.step}, ${(e.bytes / 2 ** 20).toFixed(1)} MiB, last used ${e.lastUsed.toISOString()}): over the cache size limit`);
  }
  cache.recordLineage(status.step, ctx.output, status.key, status.inputs);
}

/**
 * Stores the last step's tree beside the rest of the build (the disk and the outputs only read it), from a
 * hard-link snapshot taken now: what the build writes into the tree afterwards (boot configuration, each file
 * written under a new inode; times clamped to the epoch the tree already has) never reaches the entry. Only for
 * builds where nothing after the step rewrites a file in place (no cleanup.d hooks, --check or manifests copy).
 * Resolves once the snapshot is taken; `done` then settles with the store's outcome: undefined, or the error it
 * failed with (the build awaits it before its work directory, snapshot included, goes).
 */
export async function afterStepBeside(
  cache: StepCache | undefined,
  status: StepStatus,
  ctx: Parameters<typeof afterStep>[2],
  snapshot: string,
): Promise<{ done: Promise<unknown> }> {
  if (!cache || status.state !== 'miss') {
    await afterStep(cache, status, ctx);
    return { done: Promise.resolve(undefined) };
  }
  try {
    await run('cp', ['-a', '-l', '-T', ctx.root, snapshot], { label: `snapshot the tree for the step cache (${status.step})` });
  } catch (e) {
    if ((e as { kind?: string }).kind === 'interrupted') throw e;
    // No hard links here (a filesystem or a namespace that refuses them): stored in turn, as other steps are.
    fs.rmSync(snapshot, { recursive: true, force: true });
    await afterStep(cache, status, ctx);
    return { done: Promise.resolve(undefined) };
  }
  // The snapshot stays until the work directory goes: unlinking its names now would change the ctime of the
  // files the outputs are reading (tar refuses a file that "changed as we read it").
  const done = afterStep(cache, status, { ...ctx, root: snapshot }).then(() => undefined, (e: unknown) => e);
  return { done };
}

/** Pushes a local entry to the cache registry in the background (pinned meanwhile, so pruning cannot take it). */
export function pushStep(cache: StepCache, remote: RemoteCache, key: string): void {
  const entry = cache.get(key);
  const pin = entry && cache.pin(key, '-push');
  if (!entry || !pin) return;
  const { lastUsed: _used, ...meta } = entry;
  remote.push('step', key, pin.file, meta, pin.release);
}

/**
 * The cache registry's entries for the build's steps: which keys it holds (looked up for every cacheable step),
 * and the local hits it lacks pushed to it.
 */
export async function lookUpRemote(cache: StepCache, remote: RemoteCache | undefined, steps: readonly StepInputs[]): Promise<Set<string>> {
  if (!remote) return new Set();
  const keys = steps.filter((st) => !st.empty && !st.uncacheable).map((st) => st.key);
  const held = await remote.holds('step', keys);
  for (const k of keys) if (!held.has(k) && cache.get(k)) pushStep(cache, remote, k);
  return remote.canPull ? held : new Set();
}

/** Pulls a step's entry from the cache registry into the local step cache; false when that failed (the log says why). */
export async function pullStep(cache: StepCache, remote: RemoteCache, at: StepStatus, log: Logger): Promise<boolean> {
  const part = cache.partName(at.key);
  try {
    const meta = await log.step(`pull ${at.step} from the cache registry (${at.key.slice(0, 12)})`, () => remote.pull('step', at.key, part, (e) => log.event(e)));
    if (!meta || meta.key !== at.key) return false;
    cache.adopt(part, meta as unknown as EntryMeta);
    return true;
  } finally {
    fs.rmSync(part, { force: true });
  }
}
