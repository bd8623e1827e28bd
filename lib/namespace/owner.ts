/**
 * Who owns a piece of kiln's temporary state: the building process as the host sees it (its pid and
 * start time, so a recycled pid is not mistaken for the owner). Markers carry it; a later build
 * removes only state whose owner is gone.
 */
import fs from 'node:fs';
import { hostPid } from './index.js';

export interface Owner {
  readonly pid: number;
  readonly start: string;
}

export function currentOwner(): Owner {
  const pid = hostPid();
  return { pid, start: processStart(pid) ?? '0' };
}

/** A process's start time (clock ticks since boot, from the host's /proc), or undefined when gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function ownerAlive(o: Owner): boolean {
  return processStart(o.pid) === o.start;
}
