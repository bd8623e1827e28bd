/**
 * Secrets given through the environment (or --env-file) reach the hooks that need them, and nowhere else:
 * not the image, not its manifest or SBOM, not the log (text or JSON), not the terminal; with --trace too.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { kiln } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-secrets');
const flavours = path.join(work, 'flavours');
const SECRET = 'kiln-test-secret-7f3a9c2e';
const FILE_SECRET = 'kiln-file-secret-51d0b8aa';
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// A hook that uses the secrets (as a hook fetching from a private repository would) and proves it had them.
writeFlavour(path.join(flavours, 'usesecret'), {
  hooks: {
    'install.d': {
      '50-use': '#!/bin/sh\nset -eu\n[ "$OS_PASSWORD" = kiln-test-secret-7f3a9c2e ] && [ "$REPO_TOKEN" = kiln-file-secret-51d0b8aa ] && echo "secret present: yes"\n',
    },
  },
});
fs.writeFileSync(path.join(work, 'build.env'), `REPO_TOKEN=${FILE_SECRET}\n`);

test.each([[[]], [['--trace']]])('a build with secrets in its environment, options %j, keeps them out of every output', async (extra) => {
  const out = path.join(work, `img${extra.length}`);
  const log = `${out}.log`;
  const r = await kiln(['build', '-t', 'tar', '--checksum', '--logfile', log, '--env-file', path.join(work, 'build.env'), ...extra, '-o', out, 'busybox', 'usesecret'], {
    env: { ELEMENTS_PATH: flavours, OS_PASSWORD: SECRET },
  });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('secret present: yes');
  const files = fs.readdirSync(work).filter((f) => f.startsWith(path.basename(out))).map((f) => path.join(work, f));
  expect(files).toEqual(expect.arrayContaining([`${out}.tar`, log, `${out}.manifest.json`]));
  const everything = [r.stdout, r.stderr, ...files.map((f) => fs.readFileSync(f).toString('latin1'))];
  // The tar holds files uncompressed: a secret written into the tree would appear in it verbatim.
  const tree = spawnSync('tar', ['-xOf', `${out}.tar`], { maxBuffer: 2 ** 28 }).stdout.toString('latin1');
  for (const text of [...everything, tree]) {
    expect(text.includes(SECRET)).toBe(false);
    expect(text.includes(FILE_SECRET)).toBe(false);
  }
});
