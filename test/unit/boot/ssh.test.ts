import fs from 'node:fs';
import path from 'node:path';
import { candidateHomes, findSshKey, sshArgv } from '../../../lib/boot/ssh.js';
import { isKilnError } from '../../../lib/errors/index.js';
import { tempDir } from '../../helpers/tmp.js';

test('ssh argv: the key only, no host-key checks or known_hosts, batch mode, the forwarded port on 127.0.0.1', () => {
  expect(sshArgv({ port: 40022, key: '/root/.ssh/id_ed25519' }, 'cat /etc/hostname')).toEqual([
    '-i', '/root/.ssh/id_ed25519',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-p', '40022',
    'root@127.0.0.1',
    '--',
    'cat /etc/hostname',
  ]);
  const argv = sshArgv({ port: 2222, key: 'k', user: 'debian', connectTimeoutS: 3 }, 'true').join(' ');
  expect(argv).toContain('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null');
  expect(argv).toContain('-p 2222 debian@127.0.0.1');
  expect(argv).toContain('ConnectTimeout=3');
});

describe('findSshKey', () => {
  const root = tempDir('unit-ssh');
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  for (const h of [a, b]) fs.mkdirSync(path.join(h, '.ssh'), { recursive: true });
  fs.writeFileSync(path.join(a, '.ssh', 'id_rsa'), 'x');
  fs.writeFileSync(path.join(b, '.ssh', 'id_ed25519'), 'x');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('id_ed25519 before id_rsa within a home; homes in order', () => {
    expect(findSshKey(undefined, [a, b])).toBe(path.join(a, '.ssh', 'id_rsa'));
    expect(findSshKey(undefined, [b, a])).toBe(path.join(b, '.ssh', 'id_ed25519'));
  });

  test('--ssh-key wins; a missing one is bad input naming the flag', () => {
    expect(findSshKey(path.join(a, '.ssh', 'id_rsa'), [b])).toBe(path.join(a, '.ssh', 'id_rsa'));
    try {
      findSshKey(path.join(root, 'nope'), [a]);
      throw new Error('no error');
    } catch (e) {
      expect(isKilnError(e) && e.kind).toBe('invalid');
      expect((e as Error).message).toMatch(/^--ssh-key: /);
    }
  });

  test('no key anywhere: bad input with a hint', () => {
    expect(() => findSshKey(undefined, [path.join(root, 'empty')])).toThrow(/--ssh: no SSH key found/);
  });

  test('with sudo, the invoking user\'s home is searched too', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n';
    expect(candidateHomes({ HOME: '/root', SUDO_USER: 'alice' }, passwd)).toEqual(['/root', '/home/alice']);
    expect(candidateHomes({ HOME: '/root' }, passwd)).toEqual(['/root']);
  });
});
