/** The build configuration from a parsed command (what the build and plan actions start from). */
import type { Command } from 'commander';
import { resolveConfig, type BuildConfig, type CliValue } from '../config/config.js';
import { SETTINGS, optionAttribute } from '../config/settings.js';

/** The settings the user gave on the command line (not commander's defaults). */
export function collectCli(cmd: Command): Map<string, CliValue> {
  const given = new Map<string, CliValue>();
  const opts = cmd.opts<Record<string, CliValue>>();
  for (const s of SETTINGS) {
    const attr = optionAttribute(s);
    if (cmd.getOptionValueSource(attr) !== 'cli') continue;
    const v = opts[attr];
    if (v !== undefined) given.set(s.key, v);
  }
  return given;
}

export function configFromCommand(cmd: Command, env: NodeJS.ProcessEnv = process.env): BuildConfig {
  const envFile = cmd.opts<{ envFile?: string }>().envFile;
  return { ...resolveConfig(collectCli(cmd), env, envFile), args: commandArgs(cmd) };
}

/** What followed the command's name on the command line (`kiln build -o x vm` → -o x vm). */
function commandArgs(cmd: Command): string[] {
  const argv = process.argv.slice(2);
  return cmd.parent && argv[0] === cmd.name() ? argv.slice(1) : argv;
}
