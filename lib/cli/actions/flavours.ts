/** `kiln flavours`: what runs once the options are parsed (loaded only then). */
import { discoverFlavours, searchPaths } from '../../flavours/discover.js';

export interface FlavoursOpts {
  elementsPath?: string;
  json?: boolean;
}

/** `kiln flavours`'s action. */
export function listFlavours(opts: FlavoursOpts): void {
  const paths = searchPaths(opts.elementsPath ?? process.env.ELEMENTS_PATH);
  const flavours = [...discoverFlavours(paths).values()].sort((a, b) => a.name.localeCompare(b.name));
  if (opts.json) {
    const rows = flavours.map((f) => ({ name: f.name, dir: f.dir, summary: f.summary ?? null, provides: f.provides, deps: f.deps, overrides: f.overrides }));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const width = Math.max(0, ...flavours.map((f) => f.name.length));
  for (const f of flavours) {
    const provides = f.provides.length > 0 ? ` (provides ${f.provides.join(', ')})` : '';
    process.stdout.write(`${f.name.padEnd(width)}  ${f.summary ?? '(no README)'}${provides}\n`);
  }
}
