/**
 * sudoers.d/kiln for real: the file passes visudo; a user in the kiln group builds a busybox tar as
 * themselves (kiln re-runs through `sudo -n`) and owns the output; a user outside the group is refused
 * with one clear line (exit 2) and nothing is written. The test installs the sudoers file and the
 * /usr/local/bin links, creates the users, and removes all of it afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const sh = (cmd: string, args: string[], opts: { env?: Record<string, string> } = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...opts.env } });
const SUDOERS = '/etc/sudoers.d/kiln-e2e';
const LINKS = ['kiln', 'disk-image-create'].map((n) => ({ at: `/usr/local/bin/${n}`, to: path.join(REPO, 'bin', n) }));
const MEMBER = 'kilne2e';
const OUTSIDER = 'kilne2eout';
let createdGroup = false;
/** What each link path held before the test (a link target, or undefined for nothing), to put back after. */
const previousLinks = new Map<string, string | undefined>();
let work: string;

beforeAll(() => {
  if (sh('getent', ['group', 'kiln']).status !== 0) {
    expect(sh('groupadd', ['--system', 'kiln']).status).toBe(0);
    createdGroup = true;
  }
  for (const u of [MEMBER, OUTSIDER]) sh('userdel', ['-r', u]);
  expect(sh('useradd', ['-m', '-G', 'kiln', MEMBER]).status).toBe(0);
  expect(sh('useradd', ['-m', OUTSIDER]).status).toBe(0);
  // The links point at this checkout for the test, whatever was there (another clone's, or a dangling one).
  for (const l of LINKS) {
    const st = fs.lstatSync(l.at, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink()) throw new Error(`${l.at} is a file, not a link: the test will not replace it`);
    previousLinks.set(l.at, st ? fs.readlinkSync(l.at) : undefined);
    fs.rmSync(l.at, { force: true });
    fs.symlinkSync(l.to, l.at);
  }
  fs.copyFileSync(path.join(REPO, 'sudoers.d/kiln'), SUDOERS);
  fs.chmodSync(SUDOERS, 0o440);
  work = tempDir('e2e-sudo');
  fs.chmodSync(work, 0o777);
});

afterAll(() => {
  fs.rmSync(SUDOERS, { force: true });
  for (const [at, to] of previousLinks) {
    fs.rmSync(at, { force: true });
    if (to !== undefined) fs.symlinkSync(to, at);
  }
  for (const u of [MEMBER, OUTSIDER]) sh('userdel', ['-r', u]);
  if (createdGroup) sh('groupdel', ['kiln']);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('visudo accepts sudoers.d/kiln', () => {
  const r = sh('visudo', ['-c', '-f', path.join(REPO, 'sudoers.d/kiln')]);
  expect(r.stdout + r.stderr).toMatch(/parsed OK/);
  expect(r.status).toBe(0);
});

test('a member of the kiln group builds as themselves through sudo and owns the output', () => {
  const out = path.join(work, 'member');
  const r = sh('runuser', ['-u', MEMBER, '--', '/usr/local/bin/kiln', 'build', '-t', 'tar', '--checksum', '-o', out, 'busybox']);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/kiln: done in/);
  expect(r.status).toBe(0);
  const uid = Number(sh('id', ['-u', MEMBER]).stdout.trim());
  for (const f of [`${out}.tar`, `${out}.tar.sha256`, `${out}.manifest.json`]) expect(fs.statSync(f).uid).toBe(uid);
  // The member may run kiln's builds and nothing else.
  const other = sh('runuser', ['-u', MEMBER, '--', 'sudo', '-n', '/usr/bin/id']);
  expect(other.status).not.toBe(0);
});

test('a user outside the group is refused with one clear line, exit 2, nothing written', () => {
  const out = path.join(work, 'outsider');
  const r = sh('runuser', ['-u', OUTSIDER, '--', '/usr/local/bin/disk-image-create', '-t', 'tar', '-o', out, 'busybox']);
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`kiln: error: ${OUTSIDER} may not run "/usr/local/bin/disk-image-create" as root through sudo without a password`));
  expect(fs.readdirSync(work).filter((n) => n.startsWith('outsider') || n.includes('outsider'))).toEqual([]);
});
