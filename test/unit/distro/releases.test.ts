/** lib/distro/releases.ts: the one table of Debian releases. */
import { DEFAULT_RELEASE, debianRelease, describeReleases, isKnownRelease, isSuiteName, releaseSuites } from '../../../lib/distro/releases.js';
import { DEBIAN_RELEASES } from '../../../lib/build/preflight.js';
import { SETTINGS } from '../../../lib/config/settings.js';

test('the default is the current stable, trixie (Debian 13), and the settings table uses it', () => {
  expect(DEFAULT_RELEASE).toBe('trixie');
  expect(debianRelease(DEFAULT_RELEASE)?.version).toBe('13');
  expect(SETTINGS.find((s) => s.key === 'release')?.default()).toBe('trixie');
});

test.each([
  ['bookworm', { main: ['bookworm', 'bookworm-updates'], security: 'bookworm-security' }, 'one-line'],
  ['trixie', { main: ['trixie', 'trixie-updates'], security: 'trixie-security' }, 'deb822'],
  ['forky', { main: ['forky', 'forky-updates'], security: 'forky-security' }, 'deb822'],
  ['sid', { main: ['sid'], security: undefined }, 'deb822'],
])('%s: suites %j, %s sources', (codename, suites, sources) => {
  expect(releaseSuites(codename)).toEqual(suites);
  expect(debianRelease(codename)?.sources).toBe(sources);
});

test.each([
  ['trixie', true, false],
  ['sid', true, false],
  ['stable', true, true],
  ['unstable', true, true],
  ['oldstable', true, true],
  ['testing', true, true],
  ['bullseye', false, false],
  ['oldoldstable', false, false],
  ['Trixie', false, false],
])('%s: known %s, a suite name %s', (name, known, suite) => {
  expect(isKnownRelease(name)).toBe(known);
  expect(isSuiteName(name)).toBe(suite);
  expect(DEBIAN_RELEASES.includes(name)).toBe(known);
});

test('the message of a refused release lists every codename with its version and every suite name', () => {
  expect(describeReleases()).toBe('bookworm (12), trixie (13, the default), forky (14), sid; or a suite name: oldstable, stable, testing, unstable');
});
