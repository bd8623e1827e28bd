/**
 * sudoers.d/kiln for real: the file passes visudo; a user in the kiln group builds a busybox tar as
 * themselves (kiln re-runs through `sudo -n`) and owns the output; a user outside the group who turns rootless
 * builds off (KILN_ROOTLESS=0) is refused with one clear line (exit 2) and nothing is written; two members building local-config through sudo with
 * one shared step cache each get their own public key and never the other's. The test installs the sudoers
 * file and the /usr/local/bin links, creates the users, and removes all of it afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

// The run's image cache (test/e2e/setup.ts) goes along: sudo resets HOME to /root, and without it the members'
// builds would read and write root's own ~/.cache/image-create (step cache on), state from outside this run.
// sudoers.d/kiln keeps DIB_* through sudo.
const RUN_CACHE = process.env.DIB_IMAGE_CACHE;
const sh = (cmd: string, args: string[], opts: { env?: Record<string, string> } = {}) =>
  spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(RUN_CACHE ? { DIB_IMAGE_CACHE: RUN_CACHE } : {}), ...opts.env },
  });
const SUDOERS = '/etc/sudoers.d/kiln-e2e';
const LINKS = ['kiln', 'disk-image-create'].map((n) => ({ at: `/usr/local/bin/${n}`, to: path.join(REPO, 'bin', n) }));
const MEMBER = 'kilne2e';
const OUTSIDER = 'kilne2eout';
const MEMBER2 = 'kilne2e2';
let createdGroup = false;
/** What each link path held before the test (a link target, or undefined for nothing), to put back after. */
const previousLinks = new Map<string, string | undefined>();
let work: string;

beforeAll(() => {
  if (sh('getent', ['group', 'kiln']).status !== 0) {
    expect(sh('groupadd', ['--system', 'kiln']).status).toBe(0);
    createdGroup = true;
  }
  for (const u of [MEMBER, MEMBER2, OUTSIDER]) sh('userdel', ['-r', u]);
  expect(sh('useradd', ['-m', '-G', 'kiln', MEMBER]).status).toBe(0);
  expect(sh('useradd', ['-m', '-G', 'kiln', MEMBER2]).status).toBe(0);
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
  for (const u of [MEMBER, MEMBER2, OUTSIDER]) sh('userdel', ['-r', u]);
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

// A user outside the group builds rootless where the host allows it (rootless.test.ts); with KILN_ROOTLESS=0 sudo
// is the only way, and its refusal is what this checks.
test('a user outside the group (KILN_ROOTLESS=0) is refused with one clear line, exit 2, nothing written', () => {
  const out = path.join(work, 'outsider');
  const r = sh('runuser', ['-u', OUTSIDER, '--', '/usr/local/bin/disk-image-create', '-t', 'tar', '-o', out, 'busybox'], { env: { KILN_ROOTLESS: '0' } });
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`kiln: error: ${OUTSIDER} may not run "/usr/local/bin/disk-image-create" as root through sudo without a password`));
  expect(fs.readdirSync(work).filter((n) => n.startsWith('outsider') || n.includes('outsider'))).toEqual([]);
});

test('two members sharing one step cache through sudo each get their own key in local-config, never the other\'s', () => {
  const cache = path.join(work, 'shared-cache');
  fs.mkdirSync(cache, { mode: 0o755 });
  const keyOf = (user: string) => {
    expect(sh('runuser', ['-u', user, '--', 'ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', user, '-f', `/home/${user}/.ssh/id_ed25519`]).status).toBe(0);
    return fs.readFileSync(`/home/${user}/.ssh/id_ed25519.pub`, 'utf8').trim();
  };
  const keys: Record<string, string> = { [MEMBER]: keyOf(MEMBER), [MEMBER2]: keyOf(MEMBER2) };
  const build = (user: string, n: number) => {
    const out = path.join(work, `${user}-${n}`);
    const r = sh('runuser', ['-u', user, '--', '/usr/local/bin/kiln', 'build', '--json', '-t', 'tar', '--image-cache', cache, '-o', out, 'busybox', 'local-config']);
    expect([r.status, r.status === 0 ? '' : r.stderr.slice(-2000)]).toEqual([0, '']);
    const states = r.stdout.split('\n').filter((l) => l.includes('"event":"cache"')).map((l) => `${JSON.parse(l).step}:${JSON.parse(l).state}`);
    const authorized = spawnSync('tar', ['-xOf', `${out}.tar`, './root/.ssh/authorized_keys'], { encoding: 'utf8' }).stdout.trim();
    return { states, authorized };
  };
  const a = build(MEMBER, 1);
  expect(a.authorized).toBe(keys[MEMBER]);
  const b = build(MEMBER2, 1);
  expect(b.states).toEqual(['root:hit', 'install:miss', 'finalise:empty']);
  expect(b.authorized).toBe(keys[MEMBER2]);
  // Each member's next build is served from the cache, with that member's key only.
  for (const user of [MEMBER, MEMBER2]) {
    const again = build(user, 2);
    expect(again.states).toEqual(['root:hit', 'install:hit', 'finalise:empty']);
    expect(again.authorized).toBe(keys[user]);
  }
});
