import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KILN_VERSION } from '../../../lib/version.js';

test("kiln's version is package.json's: --version of every entry point, the manifest and the SBOM use it", () => {
  const pkg = (JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8')) as { version: string }).version;
  expect(KILN_VERSION).toBe(pkg);
  for (const bin of ['kiln', 'disk-image-create', 'image-pack']) {
    const r = spawnSync(process.execPath, [path.join(process.cwd(), 'bin', bin), '--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect([bin, r.status, r.stdout.trim()]).toEqual([bin, 0, pkg]);
  }
});
