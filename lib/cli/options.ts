import { Command, Option } from 'commander';
import { SETTINGS } from '../config/settings.js';

const REPEATABLE = new Set(['packages']);

/** Adds every row of the settings table to a command, plus --env-file. */
export function addBuildOptions(cmd: Command): Command {
  for (const s of SETTINGS) {
    const envNote = s.env ? ` [env ${s.env}]` : '';
    const opt = new Option(s.flags, `${s.help}${envNote}`);
    if (REPEATABLE.has(s.key)) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    cmd.addOption(opt);
  }
  cmd.option('--env-file <file>', 'read settings and hook environment from a dotenv file');
  return cmd;
}
