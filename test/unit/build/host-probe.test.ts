/**
 * extra-data.d run apart from the build: what it wrote in the hooks directory and in the (empty) tree is
 * digested, a changed host file changes the digest, a hook that needs the tree fails the probe, and nothing
 * of the probe is left behind. Host hooks only: no root needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { probeExtraData } from '../../../lib/build/host-probe.js';
import type { PlannedPhase } from '../../../lib/flavours/types.js';
import { Logger } from '../../../lib/log/index.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-probe');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const hooksDir = path.join(work, 'hooks');
const keyFile = path.join(work, 'home', 'id.pub');
fs.mkdirSync(path.dirname(keyFile), { recursive: true });
fs.writeFileSync(keyFile, 'ssh-ed25519 AAAAone user@host\n');
fs.mkdirSync(path.join(hooksDir, 'extra-data.d'), { recursive: true });
fs.mkdirSync(path.join(hooksDir, 'environment.d'), { recursive: true });
fs.writeFileSync(path.join(hooksDir, 'static-file'), 'staged\n');

function phase(hooks: Record<string, string>): PlannedPhase {
  for (const [name, text] of Object.entries(hooks)) fs.writeFileSync(path.join(hooksDir, 'extra-data.d', name), text, { mode: 0o755 });
  return { name: 'extra-data.d', where: 'host', runs: true, hooks: Object.keys(hooks).map((name) => ({ name, flavour: 'f', path: path.join(hooksDir, 'extra-data.d', name), where: 'host' })) } as unknown as PlannedPhase;
}
const ctx = { root: path.join(work, 'mnt'), hooksDir, envFiles: [], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KEY_FILE: keyFile }, log: new Logger({ json: false, quiet: true }) };
const copies = phase({
  '50-keys': '#!/bin/bash\nset -eu\nmkdir -p "$TMP_HOOKS_PATH/keys"\ncp "$KEY_FILE" "$TMP_HOOKS_PATH/keys/authorized_keys"\nmkdir -p "$TARGET_ROOT/etc/kiln"\necho hello > "$TARGET_ROOT/etc/kiln/greeting"\n',
});

test('the products in the hooks directory and in the tree are digested; the staged files are not', async () => {
  const scratch = path.join(work, 'probe');
  const r = await probeExtraData(ctx, copies, scratch);
  expect('outputs' in r && Object.keys(r.outputs).sort()).toEqual([
    'extra-data.d output: /etc',
    'extra-data.d output: /etc/kiln',
    'extra-data.d output: /etc/kiln/greeting',
    'extra-data.d output: keys',
    'extra-data.d output: keys/authorized_keys',
  ]);
  expect(fs.existsSync(scratch)).toBe(false);
  expect(fs.existsSync(path.join(hooksDir, 'keys'))).toBe(false);
});

test('a new key in the host file changes the digest of the product that holds it, and only that one', async () => {
  const a = await probeExtraData(ctx, copies, path.join(work, 'probe'));
  fs.appendFileSync(keyFile, 'ssh-ed25519 AAAAtwo user@host\n');
  const b = await probeExtraData(ctx, copies, path.join(work, 'probe'));
  const differ = Object.keys('outputs' in a ? a.outputs : {}).filter((k) => 'outputs' in a && 'outputs' in b && a.outputs[k] !== b.outputs[k]);
  expect(differ).toEqual(['extra-data.d output: keys/authorized_keys']);
});

test('a hook that needs the real tree fails the probe, naming the hook; nothing is left', async () => {
  fs.rmSync(path.join(hooksDir, 'extra-data.d'), { recursive: true });
  fs.mkdirSync(path.join(hooksDir, 'extra-data.d'));
  const needsTree = phase({ '99-apt-conf': '#!/bin/bash\nset -eu\ncp "$KEY_FILE" "$TARGET_ROOT/etc/apt/apt.conf"\n' });
  const scratch = path.join(work, 'probe');
  const r = await probeExtraData(ctx, needsTree, scratch);
  expect('failed' in r && r.failed).toMatch(/\[f\] extra-data\.d\/99-apt-conf exited 1/);
  expect(fs.existsSync(scratch)).toBe(false);
});
