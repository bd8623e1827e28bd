import fs from 'node:fs';
import dotenv from 'dotenv';
import { invalid } from '../errors/index.js';
import type { ResolvedRelease } from '../distro/releases.js';
import { SETTINGS, type BuildSettings, type Setting, type SettingKey } from './settings.js';

/** What the command line gave for one setting: a string value, or true for a switch. */
export type CliValue = string | string[] | boolean;

export interface BuildConfig {
  readonly settings: Readonly<BuildSettings>;
  /** The environment hooks inherit: the caller's, plus --env-file entries (file wins). */
  readonly env: Readonly<Record<string, string>>;
  readonly envFile: string | undefined;
  /** The command line after the command's name, as given (diskimage-builder's DIB_ARGS). */
  readonly args?: readonly string[];
  /** The release as the build resolved it against the mirror (settings.release is then its codename). */
  readonly release?: ResolvedRelease;
}

/** Reads a dotenv file; an unreadable or missing file is bad input. */
export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(`--env-file ${file}: cannot read it (${code})`);
  }
  return dotenv.parse(text);
}

/**
 * Resolves every setting: command-line flag, then --env-file, then the environment, then the default.
 * Returns a frozen config. Pure but for reading the env file.
 */
export function resolveConfig(
  cli: ReadonlyMap<string, CliValue>,
  env: NodeJS.ProcessEnv,
  envFile?: string,
): BuildConfig {
  const fileEnv = envFile === undefined ? {} : readEnvFile(envFile);
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  Object.assign(merged, fileEnv);

  const settings = {} as Record<string, unknown>;
  for (const s of SETTINGS) settings[s.key] = resolveOne(s, cli.get(s.key), fileEnv, env, envFile);
  return Object.freeze({
    settings: Object.freeze(settings) as unknown as Readonly<BuildSettings>,
    env: Object.freeze(merged),
    envFile,
  });
}

/**
 * One setting as a command without the build options resolves it (kiln cache): its own option's raw value
 * if given, else its environment variable, else its default — the settings table's, not a copy.
 */
export function settingOf<K extends SettingKey>(key: K, env: NodeJS.ProcessEnv, raw?: string): BuildSettings[K] {
  const s = SETTINGS.find((x) => x.key === key) as Setting;
  return resolveOne(s, raw, {}, env, undefined) as BuildSettings[K];
}

function resolveOne(
  s: Setting,
  cliValue: CliValue | undefined,
  fileEnv: Record<string, string>,
  env: NodeJS.ProcessEnv,
  envFile: string | undefined,
): unknown {
  const flag = longFlag(s);
  if (cliValue !== undefined) {
    if (typeof cliValue === 'boolean') return s.switchValue !== undefined ? s.switchValue : cliValue;
    if (Array.isArray(cliValue)) {
      // Repeatable list options (-p a -p b,c) concatenate.
      return cliValue.flatMap((v) => s.parse(v, flag) as unknown[]);
    }
    return s.parse(cliValue, flag);
  }
  if (s.env !== undefined) {
    const fromFile = fileEnv[s.env];
    if (fromFile !== undefined) return s.parse(fromFile, `${s.env} in ${envFile}`);
    const fromEnv = env[s.env];
    if (fromEnv !== undefined) return s.parse(fromEnv, s.env);
  }
  return s.default();
}

export function longFlag(s: Setting): string {
  return /--[a-z0-9-]+/.exec(s.flags)?.[0] ?? s.flags;
}
