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

/**
 * The owner a scratch entry's name carries (`NAME.kiln-part-PID-START[-what]`, a pin's `NAME.pin-PID-START`),
 * or undefined for any other name: a leftover to remove once that owner is gone.
 */
export function partOwner(name: string): Owner | undefined {
  const m = /\.(?:kiln-part|pin)-([0-9]+)-([0-9]+)(?:-[a-z]+)?$/.exec(name);
  return m ? { pid: Number(m[1]), start: m[2] as string } : undefined;
}

/** An owner written as JSON in a marker file; undefined when missing or not an owner. */
export function readOwnerFile(file: string): Owner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.start === 'string' ? { pid: o.pid, start: o.start } : undefined;
  } catch {
    return undefined;
  }
}
