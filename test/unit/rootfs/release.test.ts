/**
 * lib/rootfs/release.ts: a suite name resolved from the mirror's Release file (read from a real file: mirror
 * here), an expired Valid-Until noticed, the read recorded for --offline builds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../helpers/tmp.js';
import { checkResolved, releaseFacts, resolveFromFacts, resolveRelease } from '../../../lib/rootfs/release.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const release = (suite: string, codename: string, validUntil?: string) =>
  `Origin: Debian\nLabel: Debian\nSuite: ${suite}\nCodename: ${codename}\nDate: Fri, 30 Oct 2026 08:08:01 UTC\n${validUntil ? `Valid-Until: ${validUntil}\n` : ''}Architectures: amd64\nComponents: main\nSHA256:\n 0123 12 main/binary-amd64/Packages\n`;
const clearsigned = (body: string) => `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n${body}-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEE\n-----END PGP SIGNATURE-----\n`;

/** A file: mirror with dists/NAME/InRelease for each name (a suite name and its codename share the file). */
function mirror(files: Record<string, string>): string {
  const dir = tempDir('release-mirror');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, 'dists', name), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dists', name, 'InRelease'), text);
  }
  return pathToFileURL(dir).href;
}

describe('releaseFacts', () => {
  test('an InRelease file: the clearsigned wrapper skipped, Suite, Codename and Valid-Until read', () => {
    const f = releaseFacts(clearsigned(release('unstable', 'sid', 'Fri, 06 Nov 2026 08:08:01 UTC')));
    expect(f).toEqual({ codename: 'sid', suite: 'unstable', validUntil: new Date('2026-11-06T08:08:01Z') });
  });
  test('a Release file without Valid-Until (a stable release)', () => {
    expect(releaseFacts(release('stable', 'trixie'))).toEqual({ codename: 'trixie', suite: 'stable', validUntil: undefined });
  });
});

describe('resolveFromFacts', () => {
  test.each([
    ['stable', { codename: 'trixie', suite: 'stable', validUntil: undefined }, 'trixie', false],
    ['unstable', { codename: 'sid', suite: 'unstable', validUntil: new Date('2026-11-06T08:08:01Z') }, 'sid', true],
    ['sid', { codename: 'sid', suite: 'unstable', validUntil: new Date('2026-12-10T00:00:00Z') }, 'sid', false],
    // A codename is built as named, whatever suite it is now.
    ['bookworm', { codename: 'bookworm', suite: 'oldstable', validUntil: undefined }, 'bookworm', false],
  ])('%s → %s (expired: %s)', (asked, facts, codename, expired) => {
    const r = resolveFromFacts(asked, facts, NOW);
    expect(r).toMatchObject({ asked, codename, expired });
  });
  test('a suite whose Release file names no codename is a failure naming it', () => {
    expect(() => resolveFromFacts('testing', { codename: undefined, suite: 'testing', validUntil: undefined }, NOW)).toThrow(/--release testing: the mirror's Release file for testing names no Codename/);
  });
  test('a suite that is a codename kiln does not build is exit 2 listing what it builds', () => {
    const r = resolveFromFacts('testing', { codename: 'duke', suite: 'testing', validUntil: undefined }, NOW);
    expect(() => checkResolved(r)).toThrow(expect.objectContaining({ kind: 'invalid', message: expect.stringMatching(/--release testing: the mirror's testing is duke, which this kiln cannot build; supported: bookworm \(12\), trixie \(13, the default\)/) }));
  });
});

describe('resolveRelease', () => {
  const sid = clearsigned(release('unstable', 'sid', 'Fri, 06 Nov 2026 08:08:01 UTC'));
  const trixie = clearsigned(release('stable', 'trixie'));

  test('online: a suite name becomes the mirror\'s codename, an expired sid is noticed, and each read is recorded', async () => {
    const m = mirror({ stable: trixie, unstable: sid, sid });
    const cacheDir = tempDir('release-cache');
    expect((await resolveRelease({ asked: 'stable', mirror: m, offline: false, cacheDir, now: NOW })).release).toEqual({ asked: 'stable', codename: 'trixie', validUntil: undefined, expired: false, from: 'mirror' });
    expect((await resolveRelease({ asked: 'sid', mirror: m, offline: false, cacheDir, now: NOW })).release).toEqual({ asked: 'sid', codename: 'sid', validUntil: '2026-11-06T08:08:01.000Z', expired: true, from: 'mirror' });
    const recorded = JSON.parse(fs.readFileSync(path.join(cacheDir, 'kiln', 'releases.json'), 'utf8'));
    expect(recorded[m]).toEqual({ stable: { codename: 'trixie' }, sid: { codename: 'sid', validUntil: '2026-11-06T08:08:01.000Z' } });
    // Offline, the record stands in: the same codename and the same expiry (so the same cached base tree).
    expect((await resolveRelease({ asked: 'sid', mirror: m, offline: true, cacheDir, now: NOW })).release).toMatchObject({ codename: 'sid', expired: true, from: 'record' });
    expect((await resolveRelease({ asked: 'stable', mirror: m, offline: true, cacheDir, now: NOW })).release).toMatchObject({ codename: 'trixie', from: 'record' });
  });

  test('kiln plan reads without recording', async () => {
    const cacheDir = tempDir('release-cache');
    await resolveRelease({ asked: 'stable', mirror: mirror({ stable: trixie }), offline: false, cacheDir, now: NOW, record: false });
    expect(fs.existsSync(path.join(cacheDir, 'kiln', 'releases.json'))).toBe(false);
  });

  test('offline without a record: a codename as named, a suite name is exit 2 naming the suite and what to do', async () => {
    const cacheDir = tempDir('release-cache');
    const m = mirror({});
    expect((await resolveRelease({ asked: 'bookworm', mirror: m, offline: true, cacheDir, now: NOW })).release).toEqual({ asked: 'bookworm', codename: 'bookworm', validUntil: undefined, expired: false, from: 'name' });
    await expect(resolveRelease({ asked: 'stable', mirror: m, offline: true, cacheDir, now: NOW })).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/^--offline: --release stable is a suite name/) });
  });

  test('an unreadable mirror: a codename is built as named (with a note), a suite name fails naming the file', async () => {
    const cacheDir = tempDir('release-cache');
    const m = mirror({});
    const r = await resolveRelease({ asked: 'trixie', mirror: m, offline: false, cacheDir, now: NOW });
    expect(r.release).toMatchObject({ codename: 'trixie', from: 'name' });
    expect(r.note).toMatch(/could not be read .*dists\/trixie\/InRelease/);
    await expect(resolveRelease({ asked: 'testing', mirror: m, offline: false, cacheDir, now: NOW })).rejects.toMatchObject({ kind: 'failed', message: expect.stringMatching(/--release testing: which release it is needs the mirror's Release file: .*dists\/testing\/Release/) });
  });
});
