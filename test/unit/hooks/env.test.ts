import { chrootEnv } from '../../../lib/hooks/run.js';

test("inside the tree the temporary directory is the tree's /tmp, never the caller's host path", () => {
  const env = chrootEnv({ TMPDIR: '/tmp/kiln-lane-x', TMP: '/var/tmp/me', TEMP: '/x', DIB_RELEASE: 'bookworm', PATH: '/host/bin' });
  expect(env.TMPDIR).toBe('/tmp');
  expect(env).not.toHaveProperty('TMP');
  expect(env).not.toHaveProperty('TEMP');
  expect(env.DIB_RELEASE).toBe('bookworm');
  expect(env.PATH?.startsWith('/usr/local/sbin:')).toBe(true);
});
