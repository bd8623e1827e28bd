/** What "unchanged" means for a directory in tests: every entry below it with its type, mode, time and content. */
import fs from 'node:fs';
import path from 'node:path';

export function snapshotDir(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.mtimeMs} ${st.isFile() ? fs.readFileSync(p, 'hex') : st.isSymbolicLink() ? fs.readlinkSync(p) : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
