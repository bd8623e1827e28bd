import fs from 'node:fs';
import path from 'node:path';
import { ensureHostResolvConf } from '../../../lib/chroot/index.js';
import { Scope } from '../../../lib/scope/index.js';
import { tempDir } from '../../helpers/tmp.js';

const host = fs.existsSync('/etc/resolv.conf') ? fs.readFileSync('/etc/resolv.conf', 'utf8') : '';

test("a package's resolv.conf symlink gives way to the host's for a package run, and comes back after", async () => {
  const root = tempDir('unit-resolv');
  fs.mkdirSync(path.join(root, 'etc'));
  fs.symlinkSync('../run/systemd/resolve/stub-resolv.conf', path.join(root, 'etc/resolv.conf'));
  const scope = new Scope();
  ensureHostResolvConf(scope, root);
  expect(fs.lstatSync(path.join(root, 'etc/resolv.conf')).isSymbolicLink()).toBe(false);
  expect(fs.readFileSync(path.join(root, 'etc/resolv.conf'), 'utf8')).toBe(host);
  await scope.close();
  expect(fs.readlinkSync(path.join(root, 'etc/resolv.conf'))).toBe('../run/systemd/resolve/stub-resolv.conf');
  expect(fs.readdirSync(path.join(root, 'etc'))).toEqual(['resolv.conf']);
});

test("the host's resolv.conf already in place is left alone", async () => {
  const root = tempDir('unit-resolv');
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/resolv.conf'), host);
  fs.writeFileSync(path.join(root, 'etc/resolv.conf.kiln-orig'), 'the image\'s own, saved by the chroot session\n');
  const scope = new Scope();
  ensureHostResolvConf(scope, root);
  await scope.close();
  expect(fs.readFileSync(path.join(root, 'etc/resolv.conf'), 'utf8')).toBe(host);
  expect(fs.readFileSync(path.join(root, 'etc/resolv.conf.kiln-orig'), 'utf8')).toMatch(/the image's own/);
});
