/** Process-wide CLI state set once from the parsed options (only what error reporting needs). */
let debug = process.env.KILN_DEBUG === '1';

export function setDebug(value: boolean): void {
  debug = debug || value;
}

export function isDebug(): boolean {
  return debug;
}
