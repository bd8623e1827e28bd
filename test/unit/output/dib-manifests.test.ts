/**
 * diskimage-builder's manifests element as kiln does it: the build recorded in the tree's manifest directory
 * (DIB_ENV, DIB_ARGS), every manifest made root-only, and the directory copied out beside the image whole,
 * links as links, never through a link in the tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dibEnvText, recordDibManifests, saveDibManifests } from '../../../lib/output/dib-manifests.js';
import { Scope } from '../../../lib/scope/index.js';
import { testIf, root } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-dib-manifests');

test('DIB_ENV: the DIB_* variables as `declare -x` lines, sorted, quoted for bash; secrets named without their values', () => {
  const text = dibEnvText({ DIB_RELEASE: 'bookworm', PATH: '/bin', DIB_A: 'say "hi" $HOME `x` \\', DIB_DEV_USER_PASSWORD: 'hunter2', DIB_REPO_TOKEN: 't0k', NOT_DIB: 'x' });
  expect(text).toBe(
    [
      'declare -x DIB_A="say \\"hi\\" \\$HOME \\`x\\` \\\\"',
      'declare -x DIB_DEV_USER_PASSWORD="(set; not recorded by kiln)"',
      'declare -x DIB_RELEASE="bookworm"',
      'declare -x DIB_REPO_TOKEN="(set; not recorded by kiln)"',
    ].join('\n'),
  );
  expect(text).not.toContain('hunter2');
});

function tree(name: string): string {
  const t = path.join(work, name);
  fs.mkdirSync(path.join(t, 'etc', 'dib-manifests', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(t, 'etc', 'dib-manifests', 'dib-element-manifest'), 'vm\ndebian\n', { mode: 0o644 });
  fs.writeFileSync(path.join(t, 'etc', 'dib-manifests', 'sub', 'more'), 'x\n', { mode: 0o666 });
  fs.symlinkSync('/etc/shadow', path.join(t, 'etc', 'dib-manifests', 'link'));
  return t;
}

testIf(root())('recorded in the tree: dib_environment and dib_arguments, every file root-only, links left alone', () => {
  const t = tree('record');
  const shadow = fs.statSync('/etc/shadow');
  recordDibManifests(t, '/etc/dib-manifests', { DIB_ENV: 'declare -x DIB_RELEASE="bookworm"', DIB_ARGS: '-o img vm debian' });
  const dir = path.join(t, 'etc', 'dib-manifests');
  expect(fs.readFileSync(path.join(dir, 'dib_environment'), 'utf8')).toBe('declare -x DIB_RELEASE="bookworm"\n');
  expect(fs.readFileSync(path.join(dir, 'dib_arguments'), 'utf8')).toBe('-o img vm debian\n');
  for (const f of ['dib_environment', 'dib_arguments', 'dib-element-manifest', 'sub/more']) {
    const st = fs.statSync(path.join(dir, f));
    expect([f, st.mode & 0o777, st.uid]).toEqual([f, 0o600, 0]);
  }
  expect(fs.readlinkSync(path.join(dir, 'link'))).toBe('/etc/shadow');
  const after = fs.statSync('/etc/shadow');
  expect([after.mode, after.uid, after.gid]).toEqual([shadow.mode, shadow.uid, shadow.gid]);
});

test('a manifest directory reached through a link out of the tree is resolved inside the tree', () => {
  const t = path.join(work, 'hostile');
  const decoy = path.join(work, 'decoy');
  fs.mkdirSync(path.join(decoy, 'dib-manifests'), { recursive: true });
  fs.mkdirSync(t, { recursive: true });
  fs.symlinkSync(decoy, path.join(t, 'etc'));
  expect(() => recordDibManifests(t, '/etc/dib-manifests', { DIB_ENV: '', DIB_ARGS: '' })).toThrow(/\/etc\/dib-manifests \(DIB_MANIFEST_IMAGE_DIR\) is missing from the tree/);
  expect(fs.readdirSync(path.join(decoy, 'dib-manifests'))).toEqual([]);
});

test('copied out to SAVE_DIR/dib-manifests whole, replacing an earlier copy; nothing partial left behind', async () => {
  const t = tree('save');
  const save = path.join(work, 'out', 'img.d');
  fs.mkdirSync(path.join(save, 'dib-manifests'), { recursive: true });
  fs.writeFileSync(path.join(save, 'dib-manifests', 'stale'), 'old\n');
  const scope = new Scope();
  const { dir, made } = await saveDibManifests(scope, t, '/etc/dib-manifests', `${save}/`);
  await scope.close();
  expect(dir).toBe(path.join(save, 'dib-manifests'));
  expect(fs.readdirSync(dir).sort()).toEqual(['dib-element-manifest', 'link', 'sub']);
  expect(fs.readFileSync(path.join(dir, 'sub', 'more'), 'utf8')).toBe('x\n');
  expect(fs.readlinkSync(path.join(dir, 'link'))).toBe('/etc/shadow');
  expect(made).toEqual(expect.arrayContaining([dir, path.join(dir, 'sub', 'more')]));
  expect(made).not.toContain(save);
  expect(fs.readdirSync(save)).toEqual(['dib-manifests']);
  // A save directory that did not exist is made, and reported as made (it is given to a sudo caller).
  const fresh = path.join(work, 'out2', 'deep', 'img.d');
  const again = await saveDibManifests(new Scope(), t, '/etc/dib-manifests', fresh);
  expect(again.made.slice(0, 3)).toEqual([path.join(work, 'out2'), path.join(work, 'out2', 'deep'), fresh]);
  await expect(saveDibManifests(new Scope(), t, '/etc/missing', fresh)).rejects.toThrow(/\/etc\/missing \(DIB_MANIFEST_IMAGE_DIR\) is not a directory in the tree/);
});
