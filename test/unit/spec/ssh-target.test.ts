import { remoteCommand, sshFailure, sshOptions } from '../../../lib/spec/targets/ssh.js';
import type { KilnError } from '../../../lib/errors/index.js';

test('ssh always runs in batch mode with strict host-key checking and one multiplexed connection', () => {
  const o = sshOptions({ user: 'admin', host: 'node1', port: 2222 }, { identity: '/k/id', knownHosts: '/k/known' }, '/tmp/c/control');
  const pairs = o.join(' ');
  expect(pairs).toContain('-p 2222');
  expect(pairs).toContain('-o BatchMode=yes');
  expect(pairs).toContain('-o StrictHostKeyChecking=yes');
  expect(pairs).toContain('-o UserKnownHostsFile=/k/known -o GlobalKnownHostsFile=/dev/null');
  expect(pairs).toContain('-i /k/id -o IdentitiesOnly=yes');
  expect(pairs).toContain('-o ControlPath=/tmp/c/control');
  expect(sshOptions({ user: undefined, host: 'h', port: 22 }, {}, '/c').join(' ')).not.toMatch(/IdentitiesOnly|UserKnownHostsFile/);
});

test('the remote command quotes every word, sets the environment through env, and adds sudo -n when needed', () => {
  expect(remoteCommand(['sh', '-c', 'echo "$x"; rm -rf /tmp/a b'], { DISTRO: "it's" }, true)).toBe(`sudo -n env 'DISTRO=it'\\''s' sh -c 'echo "$x"; rm -rf /tmp/a b'`);
  expect(remoteCommand(['true'], {}, false)).toBe('env true');
});

test.each([
  ['Host key verification failed.', 2, /the host key is unknown; kiln checks host keys strictly/],
  ['@@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@@\nHost key verification failed.', 2, /the host key is not the one in known_hosts \(it changed\)/],
  ['admin@h: Permission denied (publickey).', 2, /key authentication refused/],
  ['ssh: connect to host 127.0.0.1 port 2: Connection refused', 1, /is unreachable: ssh: connect to host 127\.0\.0\.1 port 2: Connection refused/],
  ['ssh: Could not resolve hostname nowhere: Name or service not known', 1, /is unreachable/],
])('ssh failure: %s', (stderr, code, message) => {
  const e = sshFailure('host admin@h', stderr) as KilnError;
  expect(e.message).toMatch(message);
  expect(e.exitCode).toBe(code);
});
