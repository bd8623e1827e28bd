/** How `kiln build --boot` boots what it built: a table of the image's facts → the boot options. */
import { bootOptionsForBuilt, CLOUD_USER } from '../../../lib/build/boot-step.js';

const base = { image: '/out/img.qcow2', efi: false, consoleLog: '/out/img.console.log' };

test('an image without cloud-init: to the login prompt, nothing attached', () => {
  expect(bootOptionsForBuilt({ ...base, cloudInit: false, sshKey: '/home/u/.ssh/id_ed25519' })).toEqual({ ...base, timeoutS: 600 });
});

test('a cloud image and no local key: a config drive, to the login prompt', () => {
  expect(bootOptionsForBuilt({ ...base, efi: true, cloudInit: true })).toEqual({ ...base, efi: true, timeoutS: 600, seed: { kind: 'config-drive' } });
});

test('a cloud image and a local key: a config drive, the login prompt, then SSH as the default user with sudo -n', () => {
  const o = bootOptionsForBuilt({ ...base, cloudInit: true, sshKey: '/k' });
  expect(o).toMatchObject({ seed: { kind: 'config-drive' }, ssh: true, sshKey: '/k', sshUser: CLOUD_USER, sshCommand: 'sudo -n true' });
  expect(CLOUD_USER).toBe('debian');
  expect(o.expect?.test('kiln-0123abcd login: ')).toBe(true);
  expect(o.expect?.test('Debian GNU/Linux 12 kiln-0123abcd ttyS0')).toBe(false);
});
