/**
 * Runs one phase's hooks, in plan order, on the host or inside the tree. Each hook gets the build's
 * environment with the environment.d files sourced first (as dib-run-parts does), is logged and timed,
 * and a failure stops the build naming the flavour and the hook.
 */
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import type { PlannedPhase } from '../flavours/types.js';
import type { Logger } from '../log/index.js';
import { ensureHostResolvConf, HOOKS_INSIDE, treeShell } from '../chroot/index.js';
import { SYSTEM_PATH } from '../distro/index.js';
import { Scope } from '../scope/index.js';

export interface HookContext {
  readonly root: string;
  /** Host path of the staged hooks (TMP_HOOKS_PATH). */
  readonly hooksDir: string;
  /** environment.d file names (staged under hooksDir/environment.d), in sourcing order. */
  readonly envFiles: readonly string[];
  /** Environment for host hooks. */
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
}

/** The lines each hook printed on stdout (block-device-size.d and block-device.d report through them). */
export type HookOutput = { hook: string; flavour: string; stdout: string[] }[];

const SOURCE_AND_EXEC = 'hook="$1"; shift; for f in "$@"; do . "$f" || exit $?; done; exec "$hook"';

export async function runPhase(ctx: HookContext, phase: PlannedPhase): Promise<HookOutput> {
  const out: HookOutput = [];
  if (phase.hooks.length === 0) return out;
  await ctx.log.step(`${phase.name} (${phase.hooks.length} hook${phase.hooks.length === 1 ? '' : 's'}, ${phase.where})`, async () => {
    // Hooks in the tree resolve names with the host's resolver, even after a package replaced resolv.conf.
    const scope = new Scope();
    try {
      if (phase.where === 'chroot') ensureHostResolvConf(scope, ctx.root);
      for (const hook of phase.hooks) out.push({ hook: hook.name, flavour: hook.flavour, stdout: await runHook(ctx, phase, hook.name, hook.flavour) });
    } finally {
      await scope.close();
    }
  });
  return out;
}

async function runHook(ctx: HookContext, phase: PlannedPhase, name: string, flavour: string): Promise<string[]> {
  const inside = phase.where === 'chroot';
  const base = inside ? HOOKS_INSIDE : ctx.hooksDir;
  const hookPath = path.posix.join(base, phase.name, name);
  const envFiles = ctx.envFiles.map((f) => path.posix.join(base, 'environment.d', f));
  const label = `[${flavour}] ${phase.name}/${name}`;
  const env = inside ? chrootEnv(ctx.env) : hostEnv(ctx);
  const argv = inside
    ? ['chroot', ctx.root, treeShell(ctx.root), '-c', SOURCE_AND_EXEC, 'kiln-hook', hookPath, ...envFiles]
    : ['bash', '-c', SOURCE_AND_EXEC, 'kiln-hook', hookPath, ...envFiles];
  const stdout: string[] = [];
  ctx.log.event({ event: 'hook-start', phase: phase.name, hook: name, flavour, where: phase.where });
  const t0 = Date.now();
  const r = await run(argv[0] as string, argv.slice(1), {
    env,
    label,
    allowFailure: true,
    tailLines: 20,
    onLine: (line, stream) => {
      if (stream === 'stdout') stdout.push(line);
      ctx.log.output(line);
    },
  });
  const seconds = (Date.now() - t0) / 1000;
  ctx.log.event({ event: 'hook-end', phase: phase.name, hook: name, flavour, seconds, exitCode: r.exitCode });
  ctx.log.recordHook(label, seconds);
  ctx.log.info(`  ${r.exitCode === 0 ? '✓' : '✗'} ${label} (${seconds.toFixed(1)} s)`);
  if (r.exitCode !== 0) throw failed(`${label} exited ${r.exitCode}`, { detail: r.tail.map((l) => `    ${l}`).join('\n') });
  return stdout;
}

const SOURCE_AND_PRINT = 'for f in "$@"; do printf "kiln-sourcing %s\\n" "$f" >&2; . "$f" >&2 || exit $?; done; env -0';

/**
 * The build environment as hooks see it: the environment.d files sourced on the host, in order. Package
 * conditions and name maps are evaluated against it (DISTRO_NAME comes from an environment.d file).
 * A file that fails (e.g. dib-init-system refusing DIB_INIT_SYSTEM) is bad input naming the file.
 */
export async function sourcedEnvironment(ctx: HookContext, planned: readonly { flavour: string; path: string }[]): Promise<Record<string, string>> {
  const files = ctx.envFiles.map((f) => path.join(ctx.hooksDir, 'environment.d', f));
  const r = await run('bash', ['-c', SOURCE_AND_PRINT, 'kiln-env', ...files], { env: ctx.env, label: 'environment.d', allowFailure: true, tailLines: 20 });
  if (r.exitCode !== 0) {
    const lines = r.stderr.split('\n');
    const last = [...lines].reverse().find((l) => l.startsWith('kiln-sourcing '))?.slice('kiln-sourcing '.length) ?? '';
    const name = path.basename(last);
    const from = planned.find((e) => path.basename(e.path) === name);
    const said = lines.filter((l) => l.trim() !== '' && !l.startsWith('kiln-sourcing ')).slice(-3).join('; ');
    throw invalid(`[${from?.flavour ?? '?'}] environment.d/${name} exited ${r.exitCode}${said ? `: ${said}` : ''}`);
  }
  const env: Record<string, string> = {};
  for (const entry of r.stdout.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Inside the tree: the standard PATH plus the flavours' bin/ and kiln's helpers, and TMP_HOOKS_PATH as seen from inside. */
export function chrootEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  // The caller's temporary directory is a host path: inside the tree it does not exist (a package's
  // maintainer script running mktemp there fails), so the tree's own /tmp is the temporary directory.
  const { TMP: _tmp, TEMP: _temp, TEMPDIR: _tempdir, ...rest } = env;
  return { ...rest, TMPDIR: '/tmp', PATH: `${SYSTEM_PATH}:${HOOKS_INSIDE}/bin:${HOOKS_INSIDE}/helpers`, TMP_HOOKS_PATH: HOOKS_INSIDE };
}

/** On the host: the caller's PATH, then the flavours' bin/ and kiln's helpers. */
function hostEnv(ctx: HookContext): Record<string, string> {
  const base = ctx.env.PATH ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
  return { ...ctx.env, PATH: `${base}:${ctx.hooksDir}/bin:${ctx.hooksDir}/helpers` };
}

/**
 * The last KEY=value a phase's hooks printed (the seed's rule: the last value printed wins), and which hook
 * printed it ("[flavour] phase/hook", for messages about the value, on a cache hit as on a miss).
 */
export function lastValue(outputs: HookOutput, key: string, phase: string): { value: string; from: string } | undefined {
  let found: { value: string; from: string } | undefined;
  for (const o of outputs) for (const line of o.stdout) {
    const m = new RegExp(`^${key}=(.*)$`).exec(line.trim());
    if (m) found = { value: m[1] as string, from: `[${o.flavour}] ${phase}/${o.hook}` };
  }
  return found;
}
