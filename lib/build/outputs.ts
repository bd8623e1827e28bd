/** Tree outputs (tar, tgz), written under a temporary name and renamed into place when complete. */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/config.js';
import { run } from '../exec/index.js';
import { invalid } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { formatKind } from '../output/formats.js';
import type { BuildPlan } from '../plan/build-plan.js';
import type { Scope } from '../scope/index.js';
import { partName } from './workdir.js';

const TAR_ARGS = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--exclude=./proc/*', '--exclude=./sys/*', '--exclude=./dev/*'];

export async function writeTreeOutputs(scope: Scope, plan: BuildPlan, root: string, _config: BuildConfig, log: Logger): Promise<void> {
  for (const o of plan.outputs) {
    if (o.format === 'kernel' || o.format === 'initramfs') continue;
    if (formatKind(o.format) === 'disk' || o.format === 'squashfs') throw invalid(`-t ${o.format}: disk outputs are not available in this version yet`);
    const dest = path.resolve(o.path);
    const part = partName(dest);
    const drop = scope.defer(`remove partial ${part}`, () => fs.rmSync(part, { force: true }));
    await log.step(`write ${o.path} (${o.format})`, async () => {
      if (o.format === 'tar') await run('tar', [...TAR_ARGS, '-C', root, '-cf', part, '.'], { label: 'tar' });
      else await run('bash', ['-o', 'pipefail', '-c', 'tar "$@" | gzip -n -1 > "$0"', part, ...TAR_ARGS, '-C', root, '-cf', '-', '.'], { label: 'tgz' });
      fs.renameSync(part, dest);
    });
    await drop();
    const bytes = fs.statSync(dest).size;
    log.event({ event: 'output', path: dest, format: o.format, bytes });
    log.info(`  ${o.path}: ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  }
}
